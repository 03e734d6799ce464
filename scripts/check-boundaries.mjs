#!/usr/bin/env node
/**
 * The architecture's import rules, checked on every `npm run lint` (issue 17; docs/architecture.md):
 * 1. a part (a folder under src/) imports another part only through that part's index.ts;
 * 2. imports between parts follow the floors in docs/architecture.md (no part imports one on a
 *    higher floor), so there is no cycle between parts;
 * 3. src/ never imports from test/.
 * Prints each violation as file:line and exits 1 if there is any. Plain text matching of import
 * specifiers (static, dynamic and re-exports) on our own sources: no code is run.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SRC = join(ROOT, "src");

/** Floors, lowest first: a part may import parts on its own floor's lower floors only (and util anywhere). */
export const FLOORS = [
  ["util"],
  ["stats", "detect", "net"],
  ["providers", "hub"],
  ["records"],
  ["config", "store"],
  ["economics"],
  ["evaluate", "vet", "scoreboard"],
  ["redteam", "simulate", "gateway"],
  ["report"],
  ["ui", "demo"],
  ["cli"],
];
const floorOf = new Map(FLOORS.flatMap((parts, i) => parts.map((p) => [p, i])));

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts")) yield p;
  }
}

const partOf = (file) => {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 ? rel[0] : undefined; // src/index.ts belongs to no part
};

const problems = [];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;
for (const file of files(SRC)) {
  const part = partOf(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1];
    if (!spec.startsWith(".")) continue;
    const line = text.slice(0, m.index).split("\n").length;
    const where = `${relative(ROOT, file)}:${line}`;
    const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
    if (!target.startsWith(SRC + sep)) {
      problems.push(`${where}: imports ${spec} from outside src/`);
      continue;
    }
    const other = partOf(target);
    if (!part || !other || other === part) continue;
    if (relative(join(SRC, other), target) !== "index.ts" && other !== "util")
      problems.push(`${where}: imports ${relative(SRC, target)} — go through src/${other}/index.ts`);
    const a = floorOf.get(part);
    const b = floorOf.get(other);
    if (a === undefined || b === undefined) problems.push(`${where}: part "${a === undefined ? part : other}" has no floor in scripts/check-boundaries.mjs`);
    else if (b >= a && other !== "util") problems.push(`${where}: ${part} (floor ${a}) imports ${other} (floor ${b}) — only lower floors may be imported`);
  }
}
if (problems.length) {
  console.error(problems.join("\n"));
  console.error(`\n${problems.length} import(s) break the architecture's rules (docs/architecture.md)`);
  process.exit(1);
}
console.log("imports follow the architecture's rules");
