/**
 * Where a suite's `file:` entry may read: inside the suite file's own folder (subfolders included),
 * judged on real paths, so `../x`, an absolute path and a symlink that points out are all refused.
 * Suites are shared and reviewed like code, but their rows go into prompts sent to a provider: a
 * suite that could name any path could send `~/.ssh/id_rsa` or `/etc/passwd` to a remote model.
 * A file that does not exist is returned as is, for the reader's own "cannot read" error.
 */
import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { UserError } from "../../util/errors.js";

function real(path: string, at: string, file: string): string | undefined {
  try {
    return realpathSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new UserError(
      `${at}: cannot read ${JSON.stringify(file)} (${code ?? (e as Error).message})`,
      "check the path; it is resolved from the suite file's folder",
    );
  }
}

/** The real path of `file` (relative to `dir`, the suite's folder), refused when it lies outside `dir`. */
export function dataPath(dir: string, file: string, at: string): string {
  const path = resolve(dir, file);
  const root = real(dir, at, dir) ?? resolve(dir);
  const target = real(path, at, file);
  if (target === undefined) return path;
  const rel = relative(root, target);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel) || rel === "")
    throw new UserError(
      `${at}: ${JSON.stringify(file)}${target === path ? "" : ` (${target})`} is outside the suite's folder ${root}`,
      "copy the file into the suite's folder or a subfolder of it; a suite may not read files elsewhere (nor follow a symlink out)",
    );
  return target;
}
