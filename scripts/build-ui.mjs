#!/usr/bin/env node
/**
 * Build the web app (src/ui/app: Preact + uPlot + @tanstack/virtual-core) into dist/ui with esbuild:
 * one ES module, one stylesheet (ours + uPlot's), index.html. Everything the app loads is in that
 * folder: no CDN, no request leaves the machine. esbuild (already our bundler) builds it in well
 * under a second, which keeps `npm run build` (and `prepare`) fast.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { build } from "esbuild";

const out = "dist/ui";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: "src/ui/app/main.tsx" },
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
});
const uplotCss = readFileSync(createRequire(import.meta.url).resolve("uplot/dist/uPlot.min.css"), "utf8");
writeFileSync(`${out}/app.css`, `${uplotCss}\n${readFileSync("src/ui/app/style.css", "utf8")}`);
copyFileSync("src/ui/app/index.html", `${out}/index.html`);
