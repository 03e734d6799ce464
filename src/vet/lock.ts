/**
 * weightbridge.lock.json: every file's size and SHA-256 (streamed) and where the files came from,
 * so a reviewer can prove which bytes were reviewed; `verify` reports added, removed, changed files.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../util/errors.js";
import { HashPool } from "./hash-pool.js";
import { walk } from "./walk.js";

export const LOCK_FILE = "weightbridge.lock.json";

export interface LockFile {
  lockfileVersion: 1;
  createdAt: string;
  source: { type: "local"; path: string } | { type: "hf"; repo: string; revision: string; commit?: string };
  files: { path: string; size: number; sha256: string }[];
}

export async function hashTree(path: string, onProgress?: (done: number, total: number) => void): Promise<LockFile["files"]> {
  const w = walk(path);
  const pool = new HashPool().warm();
  const total = w.files.reduce((s, f) => s + f.size, 0);
  let done = 0;
  try {
    const hashes = pool.hashAll(
      w.files.map((f) => ({ key: f.rel, abs: f.abs, size: f.size })),
      (size) => {
        done += size;
        onProgress?.(done, total);
      },
    );
    await pool.drainOnMainThread();
    return await Promise.all(
      w.files.map(async (f) => {
        const h = await (hashes.get(f.rel) as Promise<{ sha256: string; size: number }>);
        return { path: f.rel, size: h.size, sha256: h.sha256 };
      }),
    );
  } finally {
    await pool.close();
  }
}

export function lockPathFor(target: string): string {
  const abs = resolve(target);
  return existsSync(abs) && statSync(abs).isFile() ? `${abs}.${LOCK_FILE}` : join(abs, LOCK_FILE);
}

export function readLock(file: string): LockFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UserError(`${file}: cannot read the lockfile (${(e as Error).message})`, "run `weightbridge lock PATH` first, or pass --lock FILE");
  }
  const l = raw as Partial<LockFile>;
  if (l.lockfileVersion !== 1 || !Array.isArray(l.files)) throw new UserError(`${file}: not a weightbridge lockfile (lockfileVersion 1 with files[])`);
  return l as LockFile;
}

export function writeLock(file: string, lock: LockFile): void {
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
}

export interface VerifyResult {
  ok: boolean;
  added: string[];
  removed: string[];
  changed: { path: string; expected: string; actual: string; expectedSize: number; actualSize: number }[];
  unchanged: number;
}

export function compareLock(lock: LockFile, now: LockFile["files"]): VerifyResult {
  const before = new Map(lock.files.map((f) => [f.path, f]));
  const after = new Map(now.map((f) => [f.path, f]));
  const added = [...after.keys()].filter((p) => !before.has(p)).sort();
  const removed = [...before.keys()].filter((p) => !after.has(p)).sort();
  const changed: VerifyResult["changed"] = [];
  let unchanged = 0;
  for (const [p, b] of before) {
    const a = after.get(p);
    if (!a) continue;
    if (a.sha256 !== b.sha256 || a.size !== b.size) changed.push({ path: p, expected: b.sha256, actual: a.sha256, expectedSize: b.size, actualSize: a.size });
    else unchanged++;
  }
  return { ok: !added.length && !removed.length && !changed.length, added, removed, changed, unchanged };
}
