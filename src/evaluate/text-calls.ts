/**
 * Tool calls written as text. An open model served without its tool parser answers a tool request
 * with the call in its chat template's own markup (`<tool_call>{…}</tool_call>`, DeepSeek's markers…)
 * and the API returns it as plain content, never as `tool_calls`. The tool-call grader fails such an
 * answer (the application would never see a call), and the fidelity report names the convention with
 * the server flag that fixes it. Pure; bounded: only the first TEXT_LIMIT characters are looked at.
 */

export type TextCallFormat = "hermes" | "deepseek" | "kimi" | "llama3" | "mistral" | "json";

export interface TextCall {
  format: TextCallFormat;
  /** The tool name, when the markup carries one that could be read. */
  name?: string;
}

const TEXT_LIMIT = 256 * 1024;

/** Markers, most specific first. DeepSeek's use full-width bars and ▁; some servers print them in ASCII. */
const MARKERS: { format: TextCallFormat; pattern: RegExp }[] = [
  // Kimi's section marker first: its calls inside use <|tool_call_begin|>, which DeepSeek's ASCII form also matches.
  { format: "kimi", pattern: /<\|tool_calls_section_begin\|>/ },
  { format: "deepseek", pattern: /<｜tool▁calls?▁begin｜>|<\|tool_calls?_begin\|>/ },
  { format: "hermes", pattern: /<tool_call>/ },
  { format: "llama3", pattern: /<\|python_tag\|>/ },
  { format: "mistral", pattern: /\[TOOL_CALLS\]/ },
];

/** vLLM's parser for each convention (`--enable-auto-tool-choice --tool-call-parser NAME`). */
export const VLLM_PARSER: Record<TextCallFormat, string> = {
  hermes: "hermes",
  deepseek: "deepseek_v3",
  kimi: "kimi_k2",
  llama3: "llama3_json",
  mistral: "mistral",
  json: "llama3_json",
};

function isCallObject(v: unknown): v is { name: string } {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.name === "string" && ("arguments" in o || "parameters" in o);
}

/** The name in the first JSON object after a marker, when there is one that parses. */
function nameAfter(text: string, at: number): string | undefined {
  const open = text.indexOf("{", at);
  if (open < 0 || open - at > 200) return undefined;
  // At most 8 candidate ends (the last braces), so a hostile answer full of braces costs 8 parses.
  let tries = 0;
  for (let end = text.lastIndexOf("}"); end > open && tries < 8; end = text.lastIndexOf("}", end - 1), tries++) {
    try {
      const v: unknown = JSON.parse(text.slice(open, end + 1));
      const first = Array.isArray(v) ? v[0] : v;
      return isCallObject(first) ? first.name : undefined;
    } catch {
      /* shorter span */
    }
  }
  return undefined;
}

/** A whole answer that is a call object (or a list of them), bare or in a ``` fence. */
function plainJsonCall(text: string): TextCall | undefined {
  const t = text
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/\s*```$/, "");
  if (!t.startsWith("{") && !t.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    const first = Array.isArray(v) ? v[0] : v;
    return isCallObject(first) ? { format: "json", name: first.name } : undefined;
  } catch {
    return undefined;
  }
}

/** The convention of a call written in an answer's text, if the text carries one. */
export function detectTextCall(text: string): TextCall | undefined {
  if (text.length === 0) return undefined;
  const t = text.length > TEXT_LIMIT ? text.slice(0, TEXT_LIMIT) : text;
  for (const { format, pattern } of MARKERS) {
    const m = pattern.exec(t);
    if (!m) continue;
    const name = nameAfter(t, m.index + m[0].length);
    return { format, ...(name !== undefined ? { name } : {}) };
  }
  return plainJsonCall(t);
}

/** The one-line fix for calls written as text in these conventions. */
export function textCallHint(formats: readonly TextCallFormat[]): string {
  const parsers = [...new Set(formats.map((f) => VLLM_PARSER[f]))];
  return `the server returned tool calls as text: enable its tool parser (vLLM: --enable-auto-tool-choice --tool-call-parser ${parsers.join("|")}; llama.cpp server: --jinja; SGLang: --tool-call-parser)`;
}
