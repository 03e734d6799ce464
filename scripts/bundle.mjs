#!/usr/bin/env node
/**
 * Bundle the CLI into dist/bundle/ with esbuild. Why: start-up. Loading ~900 module files of zod,
 * kysely, yaml and ajv took ~0.85 s before `weightbridge --help` printed on this machine; one bundle
 * needs a fraction. Native and rarely used packages
 * stay external and load from node_modules when needed (the CycloneDX library also because its
 * optional XML plug-ins require packages that are not installed; @foxglove/wasm-bz2 because it reads
 * its .wasm file from beside itself).
 */
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { build } from "esbuild";

/**
 * zod re-exports all ~45 of its locales as `z.locales` (258 KB of its 454 KB here, ~20 ms of every
 * start-up to compile). We only ever use English, which zod registers itself; `z.locales` keeps `en`.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    const localesDir = join(dirname(createRequire(import.meta.url).resolve("zod/v4/locales/en.js")));
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes("/node_modules/zod/") ? { path: "zod-locales-en", namespace: "zod-english-only" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-english-only" }, () => ({
      contents: `export { default as en } from ${JSON.stringify(join(localesDir, "en.js"))};`,
      resolveDir: localesDir,
      loader: "js",
    }));
  },
};

rmSync("dist/bundle", { recursive: true, force: true });

const external = ["better-sqlite3", "node-llama-cpp", "@huggingface/hub", "@huggingface/gguf", "fastify", "pg", "cli-progress", "@cyclonedx/cyclonedx-library", "@foxglove/wasm-bz2"];

// The CLI as ES modules: the entry and, with code splitting, one chunk per lazily imported part, so
// a part and the packages only it uses (fastify for the UI and the simulator, the CycloneDX library
// for scan) load on first use, not at every start (an ES bundle without splitting hoists every
// external import to its top). Bundled CommonJS packages call require(), which an ES module lacks:
// the banner gives them Node's. Start-up compiles the bundle every run on Node 20; on Node >= 22.1
// bin/weightbridge.js turns on Node's own compile cache (module.enableCompileCache).
await build({
  // The shadow thread (src/gateway/shadow/shadow-worker.ts) is its own entry: a worker loads a file; it shares the CLI's chunks.
  entryPoints: { cli: "src/cli/main.ts", "shadow-worker": "src/gateway/shadow/shadow-worker.ts" },
  outdir: "dist/bundle",
  chunkNames: "[name]-[hash]",
  splitting: true,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  minify: process.env.WB_NOMINIFY !== "1",
  logLevel: "warning",
  plugins: [zodEnglishOnly],
  banner: { js: 'import { createRequire as __wbCreateRequire } from "node:module"; const require = __wbCreateRequire(import.meta.url);' },
  external,
});

// The worker threads (src/detect/pool.ts, src/store/sqlite-thread.ts and src/config/datasets/parquet-isolated.ts start them from beside the CLI
// bundle: import.meta.url there is the bundle's URL): ES module entries of their own, since a worker
// thread loads a file, not a function. better-sqlite3 stays external (native).
await build({
  entryPoints: {
    "detect-worker": "src/detect/detect-worker.ts",
    "sqlite-worker": "src/store/sqlite-worker.ts",
    "parquet-worker": "src/config/datasets/parquet-worker.ts",
  },
  outdir: "dist/bundle",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: process.env.WB_NOMINIFY !== "1",
  logLevel: "warning",
  external,
});
