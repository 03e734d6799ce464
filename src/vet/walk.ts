/**
 * The files of a scan target: a file, or a folder walked recursively without following symlinks.
 * Symlinks that resolve outside the folder are findings; bounded by a file count.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Finding } from "./types.js";

export interface WalkedFile {
  abs: string;
  rel: string;
  size: number;
  mode: number;
}

export const IGNORED = new Set(["weightbridge.lock.json", ".git", ".cache", ".gitattributes"]);
export const MAX_FILES = 100_000;

export function walk(target: string): { root: string; files: WalkedFile[]; findings: Finding[]; single: boolean } {
  const root = resolve(target);
  const st = statSync(root);
  if (st.isFile())
    return { root: dirname(root), files: [{ abs: root, rel: relative(dirname(root), root), size: st.size, mode: st.mode }], findings: [], single: true };
  const files: WalkedFile[] = [];
  const findings: Finding[] = [];
  const realRoot = realpathSync(root);
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop() as string;
    for (const name of readdirSync(dir).sort()) {
      if (IGNORED.has(name)) continue;
      const abs = join(dir, name);
      const rel = relative(root, abs).split(sep).join("/");
      const l = lstatSync(abs);
      if (l.isSymbolicLink()) {
        const link = readlinkSync(abs);
        let real: string | undefined;
        try {
          real = realpathSync(abs);
        } catch {
          real = undefined;
        }
        const outside =
          real === undefined ? isAbsolute(link) || link.split(/[\\/]/).includes("..") : !(`${real}${sep}`.startsWith(`${realRoot}${sep}`) || real === realRoot);
        if (outside)
          findings.push({
            severity: "high",
            rule: "repo.symlink-escape",
            file: rel,
            message: `symlink points outside the model folder`,
            evidence: `-> ${link}`,
          });
        else if (real && statSync(real).isFile()) {
          const s = statSync(real);
          files.push({ abs: real, rel, size: s.size, mode: s.mode });
        }
        continue;
      }
      if (l.isDirectory()) stack.push(abs);
      else if (l.isFile()) {
        if (files.length >= MAX_FILES) {
          findings.push({ severity: "medium", rule: "repo.too-many-files", file: "", message: `more than ${MAX_FILES} files; the rest were not scanned` });
          return { root, files, findings, single: false };
        }
        files.push({ abs, rel, size: l.size, mode: l.mode });
      }
    }
  }
  files.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  return { root, files, findings, single: false };
}
