/**
 * The CLI's V8 code cache (src/cli/cached-main.ts), on a copy of the built package so the shared
 * dist/ is not touched: written on a command's first run, used (not rewritten) after, rewritten when
 * V8 rejects it, kept per command, off with WEIGHTBRIDGE_NO_COMPILE_CACHE=1, and moved to the user's
 * cache folder when the package folder cannot hold it.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/project.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function packageCopy(): string {
  const pkg = tempDir();
  mkdirSync(join(pkg, "bin"));
  mkdirSync(join(pkg, "dist", "bundle"), { recursive: true });
  copyFileSync(join(ROOT, "bin", "weightbridge.js"), join(pkg, "bin", "weightbridge.js"));
  for (const f of ["main.js", "cli.cjs"]) copyFileSync(join(ROOT, "dist", "bundle", f), join(pkg, "dist", "bundle", f));
  copyFileSync(join(ROOT, "package.json"), join(pkg, "package.json"));
  return pkg;
}

const run = (pkg: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [join(pkg, "bin", "weightbridge.js"), ...args], { env: { ...process.env, ...env }, encoding: "utf8" });

const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("compile cache", () => {
  it("is written on a command's first run, then used as is; one per command", () => {
    const pkg = packageCopy();
    const dir = join(pkg, "dist", "bundle", ".v8-cache");
    expect(run(pkg, ["--version"]).trim()).toBe(version);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const file = join(dir, files[0] as string);
    const first = statSync(file);
    expect(first.size).toBeGreaterThan(10_000);
    expect(run(pkg, ["--version"]).trim()).toBe(version);
    expect(statSync(file).mtimeMs).toBe(first.mtimeMs); // accepted, so not written again
    expect(run(pkg, ["eval", "--help"])).toMatch(/--resume/);
    expect(readdirSync(dir).filter((f) => f.startsWith("eval-"))).toHaveLength(1);
  });

  it("replaces a command's cache of an older build", () => {
    const pkg = packageCopy();
    const dir = join(pkg, "dist", "bundle", ".v8-cache");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "none-1-2-v0.0.0-x64.v8"), "an older build's cache");
    writeFileSync(join(dir, "eval-1-2-v0.0.0-x64.v8"), "another command's cache");
    run(pkg, ["--version"]);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe("eval-1-2-v0.0.0-x64.v8");
    expect(files[1]).toMatch(/^none-[0-9a-f]{16}-\d+-v[\d.]+-\w+\.v8$/);
  });

  it("is written again by a run that did over twice the work of the run that wrote it", () => {
    const pkg = packageCopy();
    run(pkg, ["--version"]);
    const dir = join(pkg, "dist", "bundle", ".v8-cache");
    const file = join(dir, readdirSync(dir)[0] as string);
    const written = readFileSync(file);
    expect(written.toString("latin1", 0, 4)).toBe("WBC1");
    expect(written.readUInt32BE(4)).toBeGreaterThan(0); // the writing run's CPU time, in ms
    const early = Buffer.from(written);
    early.writeUInt32BE(1, 4); // as if written by a run that stopped almost at once
    writeFileSync(file, early);
    expect(run(pkg, ["--version"]).trim()).toBe(version);
    expect(readFileSync(file).readUInt32BE(4)).toBeGreaterThan(1);
  });

  it("rewrites a cache V8 rejects, and still runs", () => {
    const pkg = packageCopy();
    run(pkg, ["--version"]);
    const dir = join(pkg, "dist", "bundle", ".v8-cache");
    const file = join(dir, readdirSync(dir)[0] as string);
    writeFileSync(file, "not a code cache");
    expect(run(pkg, ["--version"]).trim()).toBe(version);
    expect(statSync(file).size).toBeGreaterThan(10_000);
  });

  it("writes nothing with WEIGHTBRIDGE_NO_COMPILE_CACHE=1", () => {
    const pkg = packageCopy();
    expect(run(pkg, ["--version"], { WEIGHTBRIDGE_NO_COMPILE_CACHE: "1" }).trim()).toBe(version);
    expect(existsSync(join(pkg, "dist", "bundle", ".v8-cache"))).toBe(false);
  });

  it("falls back to $XDG_CACHE_HOME/weightbridge when the package folder cannot hold it", () => {
    const pkg = packageCopy();
    writeFileSync(join(pkg, "dist", "bundle", ".v8-cache"), "a file where the folder would go");
    const xdg = tempDir();
    expect(run(pkg, ["--version"], { XDG_CACHE_HOME: xdg }).trim()).toBe(version);
    expect(readdirSync(join(xdg, "weightbridge"))).toHaveLength(1);
  });
});
