/**
 * The decision record: SHA-256 of the config, of every suite file and of the model lock (where
 * `weightbridge lock` wrote one), and the weightbridge version — taken when the run starts and stored
 * with its plan, so a report's decision can be reproduced and audited later.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { sha256Hex } from "../util/hash.js";
import { isoNow } from "../util/iso-now.js";
import { packageVersion } from "../util/package-root.js";
import type { Plan } from "./plan.js";

const LOCK_FILE = "weightbridge.lock.json";

export interface FileHash {
  path: string;
  /** null when the file could not be read (moved or deleted since). */
  sha256: string | null;
}

export interface DecisionRecord {
  weightbridgeVersion: string;
  /** When the hashes were taken: at the start of the run, or at report time for runs older than the record. */
  hashedAt: string;
  hashedWhen: "run-start" | "report";
  config: FileHash;
  suites: (FileHash & { name: string })[];
  /** Model locks found beside the config or beside a local model's file. */
  locks: FileHash[];
}

function hashFile(path: string): FileHash {
  try {
    return { path, sha256: sha256Hex(readFileSync(path)) };
  } catch {
    return { path, sha256: null };
  }
}

function lockPaths(configPath: string, plan: Plan): string[] {
  const candidates = [join(dirname(configPath), LOCK_FILE)];
  for (const m of plan.models) {
    const p = (m.config as { path?: string }).path;
    if (!p) continue;
    const isFile = existsSync(p) && statSync(p).isFile();
    candidates.push(isFile ? `${p}.${LOCK_FILE}` : join(p, LOCK_FILE), join(dirname(p), LOCK_FILE));
  }
  return [...new Set(candidates)].filter((f) => existsSync(f));
}

export function decisionRecord(configPath: string, plan: Plan, when: DecisionRecord["hashedWhen"] = "run-start"): DecisionRecord {
  return {
    weightbridgeVersion: packageVersion(),
    hashedAt: isoNow(),
    hashedWhen: when,
    config: hashFile(configPath),
    suites: plan.suites.map((s) => ({ name: s.name, ...hashFile(s.file) })),
    locks: lockPaths(configPath, plan).map(hashFile),
  };
}
