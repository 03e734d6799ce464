/**
 * Tool calls written as text. An open model served without its tool parser answers a tool request
 * with the call in its chat template's own markup (`<tool_call>{…}</tool_call>`, DeepSeek's markers…)
 * and the API returns it as plain content, never as `tool_calls`. The tool-call grader fails such an
 * answer (the application would never see a call), the fidelity report names the convention with
 * the server flag that fixes it, and the red-team `tool-called` detector reads every call in it (a
 * forbidden call after a harmless one counts). Pure; bounded: only the first TEXT_LIMIT characters
 * are looked at, at most MAX_TEXT_CALLS calls are read, and every JSON.parse runs over a disjoint
 * piece of the text (at most PARSE_TRIES times per piece), so the cost is linear in the text.
 */

export type TextCallFormat = "hermes" | "deepseek" | "kimi" | "llama3" | "mistral" | "json";

export interface TextCall {
  format: TextCallFormat;
  /** The tool name, when the markup carries one that could be read. */
  name?: string;
  /** The call's arguments as written (or the markup's text after the name when they cannot be told apart). */
  arguments?: string;
}

const TEXT_LIMIT = 256 * 1024;
/** Calls read from one answer; far above what a real answer writes. */
const MAX_TEXT_CALLS = 64;
/** Candidate ends tried per piece when the piece is not JSON as a whole. */
const PARSE_TRIES = 8;

type Found = { name: string; arguments?: string };

interface Convention {
  format: TextCallFormat;
  /** Where the convention starts; its absence means the text does not use it. */
  marker: RegExp;
  /** The pieces of text that each hold (usually) one call. */
  pieces(t: string, at: number): string[];
  read(piece: string): Found[];
}

/** The text between each `begin` and the next `end` (or the next begin, or the end of text). */
function between(t: string, begin: RegExp, end?: RegExp): string[] {
  return t
    .split(begin)
    .slice(1, MAX_TEXT_CALLS + 1)
    .map((p) => {
      const m = end?.exec(p);
      return m ? p.slice(0, m.index) : p;
    });
}

const stripFence = (s: string) =>
  s
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/\s*```$/, "")
    .trim();

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const argText = (v: unknown): string | undefined => (v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v));

/** A call object: `{name, arguments|parameters}` or OpenAI's `{type: function, function: {name, arguments}}`. */
function callOf(v: unknown): Found | undefined {
  if (!isRecord(v)) return undefined;
  if (isRecord(v.function) && typeof v.function.name === "string") return callOf({ name: v.function.name, arguments: v.function.arguments ?? {} });
  if (typeof v.name !== "string" || !("arguments" in v || "parameters" in v)) return undefined;
  const args = argText(v.arguments ?? v.parameters);
  return { name: v.name, ...(args !== undefined ? { arguments: args } : {}) };
}

function callsOf(v: unknown): Found[] {
  const list = Array.isArray(v) ? v.slice(0, MAX_TEXT_CALLS) : [v];
  return list.map(callOf).filter((c): c is Found => c !== undefined);
}

/** The calls in a piece that is (or starts with) a JSON call object or list of them. */
function jsonCalls(piece: string): Found[] {
  const s = stripFence(piece);
  const open = s.search(/[[{]/);
  if (open < 0 || open > 200) return [];
  const close = s[open] === "[" ? "]" : "}";
  let tries = 0;
  for (let end = s.lastIndexOf(close); end > open && tries < PARSE_TRIES; end = s.lastIndexOf(close, end - 1), tries++) {
    try {
      return callsOf(JSON.parse(s.slice(open, end + 1)));
    } catch {
      /* shorter span */
    }
  }
  return [];
}

/** `name<sep>args`, DeepSeek's `function<sep>name\n```json args```` included. */
function sepCall(piece: string, sep: RegExp): Found[] {
  const m = sep.exec(piece);
  if (!m) return jsonCalls(piece);
  const left = piece.slice(0, m.index).trim();
  let right = piece.slice(m.index + m[0].length);
  let name = left;
  if (left === "function" || left === "") {
    const nl = right.search(/\n|```|\{/);
    name = (nl < 0 ? right : right.slice(0, nl)).trim();
    right = nl < 0 ? "" : right.slice(nl);
  }
  return name ? [{ name: name.replace(/:\d+$/, ""), arguments: stripFence(right) }] : [];
}

const CONVENTIONS: Convention[] = [
  // Kimi's section marker first: its calls inside use <|tool_call_begin|>, which DeepSeek's ASCII form also matches.
  {
    format: "kimi",
    marker: /<\|tool_calls_section_begin\|>/,
    pieces: (t, at) => between(t.slice(at), /<\|tool_call_begin\|>/, /<\|tool_call_end\|>/),
    read: (p) => sepCall(p, /<\|tool_call_argument_begin\|>/),
  },
  {
    format: "deepseek",
    marker: /<｜tool▁calls?▁begin｜>|<\|tool_calls?_begin\|>/,
    pieces: (t, at) => between(t.slice(at), /<｜tool▁call▁begin｜>|<\|tool_call_begin\|>/, /<｜tool▁call▁end｜>|<\|tool_call_end\|>/),
    read: (p) => sepCall(p, /<｜tool▁sep｜>|<\|tool_sep\|>/),
  },
  {
    format: "hermes",
    marker: /<tool_call>/,
    pieces: (t) => between(t, /<tool_call>/, /<\/tool_call>/),
    read: (p) => {
      const fn = /<function=([^>\n]{1,256})>/.exec(p); // Qwen3-Coder's XML form
      return fn?.[1] ? [{ name: fn[1].trim(), arguments: p.slice(fn.index + fn[0].length) }] : jsonCalls(p);
    },
  },
  {
    format: "llama3",
    marker: /<\|python_tag\|>/,
    pieces: (t) => between(t, /<\|python_tag\|>/, /<\|eom_id\|>|<\|eot_id\|>/).flatMap((p) => p.split(/;\s*(?=\{)/).slice(0, MAX_TEXT_CALLS)),
    read: (p) => {
      const py = /^\s*([A-Za-z_][\w.]{0,255})\.call\(/.exec(p); // built-in tools: brave_search.call(query="…")
      return py?.[1] ? [{ name: py[1], arguments: p.slice(py[0].length) }] : jsonCalls(p);
    },
  },
  {
    format: "mistral",
    marker: /\[TOOL_CALLS\]/,
    pieces: (t) => between(t, /\[TOOL_CALLS\]/),
    read: (p) => {
      const v11 = /^\s*([^\s[\]{}]{1,256})\s*(?:\[CALL_ID\][^[]{0,256})?\[ARGS\]/.exec(p); // name[ARGS]{…}
      return v11?.[1] ? [{ name: v11[1], arguments: p.slice(v11[0].length) }] : jsonCalls(p);
    },
  },
];

/** A whole answer that is a call object (or a list of them), bare or in a ``` fence. */
function plainJsonCalls(text: string): Found[] {
  const t = stripFence(text);
  return t.startsWith("{") || t.startsWith("[") ? jsonCalls(t) : [];
}

/** Every call written in an answer's text, in every convention it uses (a marker without a readable call gives one nameless entry). */
export function detectTextCalls(text: string): TextCall[] {
  if (text.length === 0) return [];
  const t = text.length > TEXT_LIMIT ? text.slice(0, TEXT_LIMIT) : text;
  const out: TextCall[] = [];
  for (const c of CONVENTIONS) {
    const m = c.marker.exec(t);
    if (!m) continue;
    const found = c.pieces(t, m.index + m[0].length).flatMap((p) => c.read(p));
    if (found.length === 0) out.push({ format: c.format });
    for (const f of found) out.push({ format: c.format, ...f });
  }
  if (out.length === 0) for (const f of plainJsonCalls(t)) out.push({ format: "json", ...f });
  return out.slice(0, MAX_TEXT_CALLS);
}

/** The convention of a call written in an answer's text, if the text carries one (the first call found). */
export function detectTextCall(text: string): TextCall | undefined {
  const first = detectTextCalls(text)[0];
  return first ? { format: first.format, ...(first.name !== undefined ? { name: first.name } : {}) } : undefined;
}

/** vLLM's parser for each convention (`--enable-auto-tool-choice --tool-call-parser NAME`). */
export const VLLM_PARSER: Record<TextCallFormat, string> = {
  hermes: "hermes",
  deepseek: "deepseek_v3",
  kimi: "kimi_k2",
  llama3: "llama3_json",
  mistral: "mistral",
  json: "llama3_json",
};

/** The one-line fix for calls written as text in these conventions. */
export function textCallHint(formats: readonly TextCallFormat[]): string {
  const parsers = [...new Set(formats.map((f) => VLLM_PARSER[f]))];
  return `the server returned tool calls as text: enable its tool parser (vLLM: --enable-auto-tool-choice --tool-call-parser ${parsers.join("|")}; llama.cpp server: --jinja; SGLang: --tool-call-parser)`;
}
