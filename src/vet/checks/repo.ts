/**
 * Repository-level checks on the parsed small files: `auto_map` in config.json/tokenizer_config.json
 * (transformers imports the named Python modules under trust_remote_code), chat templates in
 * tokenizer_config.json and chat_template.json, model card front matter (license, base_model).
 */
import { createRequire } from "node:module";
import type { Finding, ModelFacts } from "../types.js";
import { analyseChatTemplate } from "./chat-template.js";

export function checkConfigJson(rel: string, json: unknown): Finding[] {
  const out: Finding[] = [];
  if (typeof json !== "object" || json === null) return out;
  const o = json as Record<string, unknown>;
  const base = rel.split("/").pop();
  if ((base === "config.json" || base === "tokenizer_config.json") && o.auto_map && typeof o.auto_map === "object") {
    const refs = Object.values(o.auto_map as Record<string, unknown>)
      .flat()
      .filter((x): x is string => typeof x === "string");
    const foreign = refs.filter((r) => r.includes("--"));
    out.push({
      severity: "high",
      rule: "repo.remote-code",
      file: rel,
      message: `auto_map names custom Python classes: loading needs trust_remote_code=True, which runs the repository's code${foreign.length ? " (some from another repository)" : ""}`,
      evidence: refs.slice(0, 4).join(", "),
    });
  }
  const templates: [string, string][] = [];
  const ct = o.chat_template;
  if (typeof ct === "string") templates.push(["chat_template", ct]);
  else if (Array.isArray(ct))
    for (const t of ct) {
      const x = t as { name?: unknown; template?: unknown };
      if (typeof x?.template === "string") templates.push([`chat_template[${String(x.name ?? "?")}]`, x.template]);
    }
  for (const [where, tpl] of templates) for (const i of analyseChatTemplate(tpl, `${rel} ${where}`)) out.push({ ...i, file: rel });
  return out;
}

/** Front matter of README.md (the model card). */
export function modelCard(text: string): { facts: ModelFacts; licenseName?: string } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!m) return { facts: {} };
  // yaml is loaded only when a card has front matter (scan start-up is part of its benchmark).
  const { parse: parseYaml } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  let fm: Record<string, unknown>;
  try {
    fm = (parseYaml(m[1] as string) ?? {}) as Record<string, unknown>;
  } catch {
    return { facts: {} };
  }
  const base = fm.base_model;
  const baseModel = (Array.isArray(base) ? base : base ? [base] : []).filter((x): x is string => typeof x === "string");
  return {
    facts: { ...(typeof fm.license === "string" ? { license: fm.license } : {}), ...(baseModel.length ? { baseModel } : {}) },
    ...(typeof fm.license_name === "string" ? { licenseName: fm.license_name } : {}),
  };
}
