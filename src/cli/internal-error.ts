/**
 * A bug is reported as a bug: one line with a short id and the file that holds the details (stack,
 * version, command line), exit 70 — never a stack trace in the user's terminal or CI log.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageVersion } from "../util/package-root.js";

export const EXIT_INTERNAL = 70;

function details(e: unknown, id: string): string {
  const lines = [
    `weightbridge internal error ${id}`,
    `time: ${new Date().toISOString()}`,
    `version: ${safe(() => packageVersion())}`,
    `node: ${process.version} ${process.platform}-${process.arch}`,
    `argv: ${JSON.stringify(process.argv.slice(2))}`,
    "",
    e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e),
  ];
  const cause = e instanceof Error ? (e as Error & { cause?: unknown }).cause : undefined;
  if (cause !== undefined) lines.push("", `cause: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
  return `${lines.join("\n")}\n`;
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return "unknown";
  }
}

/** Write the details (to $WEIGHTBRIDGE_ERROR_DIR or the temp folder), print one line, return exit 70. */
export function reportInternalError(e: unknown): number {
  const id = randomBytes(4).toString("hex");
  const dir = process.env.WEIGHTBRIDGE_ERROR_DIR || join(tmpdir(), "weightbridge-errors");
  const file = join(dir, `${id}.txt`);
  let where = file;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, details(e, id));
  } catch {
    where = "(could not write a details file; rerun with WEIGHTBRIDGE_ERROR_DIR set to a writable folder)";
  }
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  process.stderr.write(`internal error ${id}; details written to ${where}\n`);
  process.stderr.write(`hint: this is a bug in weightbridge (${what.replace(/\s+/g, " ").slice(0, 160)}); please report it with that file\n`);
  return EXIT_INTERNAL;
}
