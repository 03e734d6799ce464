/**
 * The built web app (dist/ui, made by scripts/build-ui.mjs) served from memory: the file list is
 * read once at start, so a request path can only ever name one of those files (no path walking).
 * Any other non-API path gets index.html (the app routes on the client: every page has a URL).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".map": "application/json",
  ".json": "application/json",
};

export interface StaticFile {
  body: Buffer;
  type: string;
}

export function loadAppFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(join(dir, "index.html"))) return files;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(`/${relative(dir, p).split("\\").join("/")}`, { body: readFileSync(p), type: TYPES[extname(p)] ?? "application/octet-stream" });
    }
  };
  walk(dir);
  return files;
}
