#!/usr/bin/env node
/**
 * One-off codemod (issue 17): rewrite imports that reach into another part's files so they go
 * through that part's index.ts, adding the names to the index's exports where missing. Run, then
 * `npm run typecheck && npm run lint`. Kept for branches that land later with deep imports.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SRC = join(ROOT, "src");
function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.ts$/.test(name) && !name.endsWith(".d.ts")) yield p;
  }
}
const partOf = (file) => {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 ? rel[0] : undefined;
};
/** Names each index.ts already exports (by name, value or type). */
const exported = new Map();
const indexText = new Map();
const namesOf = (text) => {
  const names = new Set();
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g))
    for (const part of m[1].split(",")) {
      const n = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop()?.trim();
      if (n) names.add(n);
    }
  for (const m of text.matchAll(/export\s+(?:async\s+)?(?:function|const|class|interface|type|let|enum)\s+(\w+)/g)) names.add(m[1]);
  return names;
};
const additions = new Map(); // index file -> lines to add
let rewritten = 0;
for (const file of files(SRC)) {
  const part = partOf(file);
  if (!part) continue;
  let text = readFileSync(file, "utf8");
  const before = text;
  text = text.replace(
    /(import|export)(\s+type)?\s*(\{[^}]*\}|\*\s+as\s+\w+|\w+)?\s*from\s*"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g,
    (all, kw, typeKw, clause, spec, dynSpec) => {
      const s = spec ?? dynSpec;
      const target = resolve(dirname(file), s).replace(/\.js$/, ".ts");
      const other = partOf(target);
      if (!other || other === part || other === "util" || !target.startsWith(SRC + sep)) return all;
      const index = join(SRC, other, "index.ts");
      if (target === index) return all;
      const rel = relative(dirname(file), index).replace(/\.ts$/, ".js");
      const newSpec = rel.startsWith(".") ? rel : `./${rel}`;
      const fromIndex = `./${relative(join(SRC, other), target).replace(/\.ts$/, ".js")}`;
      if (!indexText.has(index)) indexText.set(index, existsSync(index) ? readFileSync(index, "utf8") : `/** The ${other} part's public face: other parts import only this. */\n`);
      if (!exported.has(index)) exported.set(index, namesOf(indexText.get(index)));
      const have = exported.get(index);
      const add = additions.get(index) ?? [];
      if (dynSpec || clause?.startsWith("*")) {
        // The whole module: re-export all of it if the index does not already.
        const star = `export * from "${fromIndex}";`;
        if (!indexText.get(index).includes(star) && !add.includes(star)) add.push(star);
      } else if (clause?.startsWith("{")) {
        const missing = [];
        for (const p of clause.slice(1, -1).split(",")) {
          const t = p.trim();
          if (!t) continue;
          const isType = Boolean(typeKw) || t.startsWith("type ");
          const name = t.replace(/^type\s+/, "").split(/\s+as\s+/)[0].trim();
          if (!have.has(name)) {
            missing.push(isType ? `type ${name}` : name);
            have.add(name);
          }
        }
        if (missing.length) add.push(`export { ${missing.join(", ")} } from "${fromIndex}";`);
      }
      additions.set(index, add);
      rewritten++;
      return all.replace(`"${s}"`, `"${newSpec}"`);
    },
  );
  if (text !== before) writeFileSync(file, text);
}
for (const [index, lines] of additions) if (lines.length) writeFileSync(index, `${indexText.get(index).trimEnd()}\n${lines.join("\n")}\n`);
console.log(`${rewritten} imports routed through index.ts; ${[...additions.values()].flat().length} exports added`);
