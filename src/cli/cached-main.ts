/**
 * The CLI's entry: runs the single-file bundle (dist/bundle/cli.cjs) through vm.Script with a V8
 * code cache, so a repeated command does not compile its code again. What it saves, measured on
 * bench/eval-throughput.mjs: ~110 ms of the ~300 ms an eval spends before its first request
 * (compiling zod, yaml, kysely and our code, and the functions they call once). Node 22 does this
 * itself (module.enableCompileCache); Node 20 has no code cache for ES modules, hence a CommonJS
 * bundle and this loader.
 *
 * The cache is per command (each keeps the functions it compiled) and per bundle content (a new build
 * replaces a command's old cache); it lives in dist/bundle/.v8-cache, or under $XDG_CACHE_HOME
 * (~/.cache)/weightbridge where the package is not writable. A cache V8 rejects (another Node version
 * or flags) is rewritten; a missing or unwritable cache only costs the compile.
 * WEIGHTBRIDGE_NO_COMPILE_CACHE=1 turns it off.
 *
 * A cache holds what its writing run compiled, so one written by a run that stopped early (a usage
 * error, --help) would leave later full runs compiling the rest every time. Each cache therefore
 * starts with the CPU time of the run that wrote it, and a run that used over twice as much writes
 * it again (serialising costs ~15 ms, so it is not done on every run).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";

type Main = (argv: string[]) => Promise<number | undefined>;

/** The bundle's content hash, set by scripts/bundle.mjs (a cache must never meet another build's code). */
declare const __WB_BUNDLE_HASH__: string;
const bundleHash = (): string => (typeof __WB_BUNDLE_HASH__ === "string" ? __WB_BUNDLE_HASH__ : "unbuilt");

const BUNDLE = fileURLToPath(new URL("./cli.cjs", import.meta.url));

function cacheDirs(): string[] {
  const user = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return [join(dirname(BUNDLE), ".v8-cache"), join(user, "weightbridge")];
}

function tryRead(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Write a command's cache atomically and drop that command's caches of other builds. */
function tryWrite(dir: string, command: string, name: string, data: Buffer): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `${name}.${process.pid}.tmp`);
    writeFileSync(tmp, data);
    renameSync(tmp, join(dir, name)); // atomic: concurrent commands never read half a cache
  } catch {
    return false;
  }
  try {
    for (const f of readdirSync(dir)) if (f.startsWith(`${command}-`) && f !== name && f.endsWith(".v8")) rmSync(join(dir, f), { force: true });
  } catch {
    /* another process is cleaning up too */
  }
  return true;
}

/** Cache file layout: "WBC1", the writing run's CPU time in ms (uint32 BE), then V8's data. */
const MAGIC = "WBC1";
const HEADER = 8;

function cpuMs(): number {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1000);
}

/** Load the bundle and return its main(). */
export function loadMain(argv: string[]): Main {
  const source = readFileSync(BUNDLE, "utf8");
  const arg = argv.slice(2).find((a) => !a.startsWith("-")) ?? "none";
  const command = /^[a-z][a-z-]{0,31}$/.test(arg) ? arg : "other";
  const name = `${command}-${bundleHash()}-${source.length}-${process.version}-${process.arch}.v8`;
  const enabled = process.env.WEIGHTBRIDGE_NO_COMPILE_CACHE !== "1";
  let cached: Buffer | undefined;
  let writerCpuMs = 0;
  if (enabled)
    for (const d of cacheDirs()) {
      const file = tryRead(join(d, name));
      if (file && file.length > HEADER && file.toString("latin1", 0, 4) === MAGIC) {
        writerCpuMs = file.readUInt32BE(4);
        cached = file.subarray(HEADER);
        break;
      }
    }
  const wrapper = `(function (exports, require, module, __filename, __dirname, __wbImportMetaUrl, __wbImportEsm) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: BUNDLE, ...(cached ? { cachedData: cached } : {}) });
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  const mod = { exports: {} as { main?: Main } };
  // import() in code compiled from a cache cannot reach Node's loader on Node 20, so ES-module-only
  // packages (node-llama-cpp) are imported through this function, which lives outside the script.
  const importEsm = (specifier: string) => import(specifier);
  fn(mod.exports, createRequire(BUNDLE), mod, BUNDLE, dirname(BUNDLE), pathToFileURL(BUNDLE).href, importEsm);
  if (enabled)
    process.once("exit", () => {
      const used = cpuMs();
      if (cached && !script.cachedDataRejected && used <= 2 * writerCpuMs) return;
      // At exit the cache holds every function this command compiled, not only the top level.
      const header = Buffer.alloc(HEADER);
      header.write(MAGIC, 0, "latin1");
      header.writeUInt32BE(Math.min(used, 0xffffffff), 4);
      const data = Buffer.concat([header, script.createCachedData()]);
      for (const d of cacheDirs()) if (tryWrite(d, command, name, data)) break;
    });
  if (!mod.exports.main) throw new Error(`${BUNDLE} does not export main()`);
  return mod.exports.main;
}

export function main(argv: string[]): Promise<number | undefined> {
  return loadMain(argv)(argv);
}
