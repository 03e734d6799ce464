/** How the CLI speaks: JSON to stdout, humans to stdout, diagnostics to stderr, UserError → exit 2. */
import { writeFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { isUserError, UserError } from "../util/errors.js";
import { reportInternalError } from "./internal-error.js";

export const EXIT = { ok: 0, policy: 1, usage: 2, internal: 70, interrupted: 130 } as const;

/**
 * JSON without float noise: a non-integer is written with at most 12 significant digits, so
 * 2182.7000000000003 is 2182.7 and 0.30000000000000004 is 0.3 (money is exact to the pico-dollar
 * up to $1, and no figure we print means more than 12 digits).
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v), 2)}\n`;
}

export function printJson(value: unknown): void {
  process.stdout.write(toJson(value));
}

export function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A UserError prints as two lines and exit 2; anything else is a bug: a short id, a details file, exit 70. */
export function reportError(e: unknown): number {
  if (isUserError(e)) {
    process.stderr.write(`error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    return EXIT.usage;
  }
  return reportInternalError(e);
}

/** Write an output file the user named; a missing folder, a directory or no permission is a UserError. */
export function writeOutput(file: string, text: string, flag = "-o"): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    const why =
      code === "ENOENT"
        ? "its folder does not exist"
        : code === "EISDIR"
          ? "it is a directory"
          : code === "EACCES" || code === "EPERM" || code === "EROFS"
            ? "no permission to write there"
            : code || String(e);
    throw new UserError(`${flag} ${file}: cannot write (${why})`, "choose a file in an existing, writable folder");
  }
}

/** A machine format's text: to the file the user named with -o, else to stdout. */
export function writeOrPrint(out: string | undefined, text: string): void {
  if (out) writeOutput(out, text);
  else process.stdout.write(text);
}

export function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Option parsers: a bad value is a usage error that commander reports with the option's name. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

/** A share in (0, 1]: utilisation and the like. */
export function share(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError("expected a number in (0, 1]");
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("expected a number from 0 to 1");
  return n;
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number ≥ 0");
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port from 0 to 65535");
  return n;
}

/**
 * Ctrl-C (or SIGTERM) aborts the returned signal so a long command can stop cleanly and say how to
 * resume; a second Ctrl-C quits at once.
 */
export function interruptible(): { signal: AbortSignal; dispose(): void } {
  const ctrl = new AbortController();
  let count = 0;
  const onSignal = () => {
    count++;
    if (count > 1) process.exit(EXIT.interrupted);
    warn("\nstopping: abandoning requests in flight (Ctrl-C again to quit at once)…");
    ctrl.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: ctrl.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
