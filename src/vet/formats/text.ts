/**
 * Text files of a model repository, recognised by name: chat templates (*.jinja, judged by
 * checks/chat-template.ts), JSON (parsed for the config checks) and prose (README, LICENSE, YAML)
 * kept for the licence and model-card checks. Files over 16 MiB are not read.
 */
import { readFileSync } from "node:fs";
import { analyseChatTemplate } from "../checks/chat-template.js";
import { type FormatDef, TEXT_MAX } from "./format.js";

export const chatTemplateFormat: FormatDef = {
  named: (name) => (/\.jinja2?$/i.test(name) ? "chat-template" : undefined),
  scan: ({ abs, rel }, format) => {
    const text = readFileSync(abs, "utf8");
    return { format, issues: analyseChatTemplate(text, rel), text };
  },
};

export const jsonFormat: FormatDef = {
  named: (name) => (/\.json$/i.test(name) ? "json" : undefined),
  scan: ({ abs, rel, size }, format) => {
    if (size > TEXT_MAX) return { format, issues: [] };
    const text = readFileSync(abs, "utf8");
    try {
      return { format, issues: [], json: JSON.parse(text) };
    } catch (e) {
      return /(^|\/)(config|tokenizer_config)\.json$/.test(rel)
        ? { format, issues: [{ severity: "medium", rule: "json.malformed", message: `not valid JSON: ${(e as Error).message}` }] }
        : { format, issues: [] };
    }
  },
};

export const proseFormat: FormatDef = {
  named: (name) => (/\.(md|txt|yaml|yml)$/i.test(name) || /(^|\/)(LICEN[CS]E|COPYING|NOTICE)[^/]*$/i.test(name) ? "text" : undefined),
  scan: ({ abs, size }, format) => (size <= TEXT_MAX ? { format, issues: [], text: readFileSync(abs, "utf8") } : { format, issues: [] }),
};
