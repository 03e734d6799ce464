/**
 * Suite files: parse and validate the YAML (file:line errors), read the rows of `file:` and `hf:`
 * entries (src/config/datasets), and build the cases with their rendered messages and checked
 * expectations. loadSuite is synchronous (inline cases, whole-case JSONL, CSV/TSV/JSONL rows);
 * loadSuiteAsync also reads Parquet files and Hub datasets.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ToolDefinition } from "../providers/index.js";
import { UserError } from "../util/errors.js";
import { checkExpect } from "./check-expects.js";
import { checkToolUse, conversationFromWire } from "./conversation.js";
import { dataPath } from "./datasets/data-path.js";
import { expandRows } from "./datasets/expand.js";
import { readSource, readSourceSync, type SourceRows } from "./datasets/read-sources.js";
import type { DatasetProvenance } from "./datasets/rows.js";
import { HF_KEYS, isCaseFile, type RowSource, SOURCE_KEYS } from "./datasets/source-schema.js";
import type { Message } from "./message.js";
import type { GenerationParams } from "./schema.js";
import { type AgentSpec, type Expect, inlineCaseSchema, type SuiteFile, suiteSchema, type WireMessage } from "./suite-schema.js";
import { malformedPlaceholder, renderTemplate } from "./template.js";
import { issueToUserError, parseWith, parseYaml, type YamlSource } from "./yaml-source.js";

export interface Case {
  /** Position within the suite: stable across runs, used to pair results and to resume. */
  index: number;
  id: string;
  vars: Record<string, unknown>;
  expects: Expect[];
  ideal?: string;
  tags?: string[];
  /** Cluster for the statistics: the case's `group`, or its `groupBy` variable (docs/statistics.md). */
  group?: string;
  source: string;
  messages: Message[];
  /** The runner plays the suite's tools with these mocks (an agent conversation). */
  agent?: AgentSpec;
  /** Scripted user messages sent after each assistant answer that calls no tool. */
  turns?: string[];
}

export interface Suite {
  name: string;
  file: string;
  description?: string;
  params: GenerationParams;
  /** Tools offered to the model on every case of the suite. */
  tools?: ToolDefinition[];
  cases: Case[];
  /** Where rows read from files and Hub datasets came from (hashes, commits), for the run's record. */
  datasets?: DatasetProvenance[];
}

export type { DatasetProvenance } from "./datasets/rows.js";

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${file}: cannot read ${what} (${code ?? String(e)})`,
      code === "ENOENT" ? "check the path; relative paths are resolved from the file that names them" : undefined,
    );
  }
}

const SUITE_KEYS = ["name", "description", "system", "prompt", "messages", "params", "groupBy", "tools", "cases"];
const CASE_KEYS = ["id", "vars", "expect", "ideal", "tags", "group", "messages", "agent", "turns"];
const EXPECT_KEYS = [
  "type",
  "value",
  "values",
  "caseSensitive",
  "pattern",
  "flags",
  "schema",
  "tolerance",
  "relativeTolerance",
  "relevant",
  "gains",
  "k",
  "rubric",
  "model",
  "threshold",
  "name",
  "arguments",
  "match",
  "none",
  "calls",
  "ordered",
  "allowExtra",
  "forbiddenCalls",
];

function knownSuiteKeys(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return SUITE_KEYS;
  if (path.includes("expect")) return EXPECT_KEYS;
  if (path[0] === "cases" && path[2] === "agent") return path.length === 3 ? ["maxTurns", "mocks"] : ["when", "result"];
  if (path[0] === "cases" && path[2] === "messages") return ["role", "content", "tool_calls", "tool_call_id"];
  if (path[0] === "tools") return path.length <= 2 ? ["type", "function"] : ["name", "description", "parameters"];
  if (path[0] === "cases" && path[2] === "hf") return HF_KEYS;
  if (path[0] === "cases") return [...CASE_KEYS, ...SOURCE_KEYS];
  if (path[0] === "params") return ["temperature", "maxTokens", "topP", "seed", "stop"];
  return [];
}

/** The case's group: its own `group`, else the suite's `groupBy` variable (which every case must then define). */
function groupOf(c: { group?: string | undefined; vars: Record<string, unknown> }, groupBy: string | undefined, source: string): { group?: string } {
  if (c.group !== undefined) return { group: c.group };
  if (groupBy === undefined) return {};
  const v = c.vars[groupBy];
  if (typeof v === "string" || typeof v === "number") return { group: String(v) };
  throw new UserError(
    `${source}: the suite groups cases by "${groupBy}" (groupBy) but this case's vars ${v === undefined ? "do not define it" : "give it a value that is not a string or number"}`,
    `add "${groupBy}" to this case's vars, or set "group:" on the case`,
  );
}

type Template = { role: Message["role"]; content: string };
type Entry = SuiteFile["cases"][number];
type RowEntry = Extract<Entry, { file: string } | { hf: unknown }>;

interface ParsedSuite {
  file: string;
  dir: string;
  src: YamlSource;
  raw: SuiteFile;
  /** The suite's own prompt/messages, when it has them (entries that read rows may bring their own). */
  templates: Template[] | undefined;
}

function parseSuite(file: string): ParsedSuite {
  const src = parseYaml(file, readText(file, "suite file"));
  const raw = parseWith(src, suiteSchema, knownSuiteKeys);
  const templates: Template[] | undefined = raw.messages
    ? raw.messages
    : raw.prompt !== undefined
      ? [...(raw.system !== undefined ? [{ role: "system" as const, content: raw.system }] : []), { role: "user" as const, content: raw.prompt }]
      : undefined;
  if (templates) checkTemplates(file, src, templates);
  return { file, dir: dirname(file), src, raw, templates };
}

function entryLine(p: ParsedSuite, i: number): string {
  return `${p.file}:${p.src.lines.linePos((p.src.doc.getIn(["cases", i], true) as { range?: number[] } | undefined)?.range?.[0] ?? 0).line}`;
}

/** Entries that read rows (not inline cases, not a whole-case JSONL file), with their file:line. */
function rowEntries(p: ParsedSuite): { i: number; entry: RowEntry; at: string }[] {
  const out: { i: number; entry: RowEntry; at: string }[] = [];
  p.raw.cases.forEach((entry, i) => {
    if (("file" in entry || "hf" in entry) && !isCaseFile(entry as RowSource)) out.push({ i, entry: entry as RowEntry, at: entryLine(p, i) });
  });
  return out;
}

/** Templates for an entry's rows: its own prompt/messages, else the suite's. */
function entryTemplates(p: ParsedSuite, e: RowEntry, at: string): Template[] {
  if (e.system !== undefined && e.prompt === undefined)
    throw new UserError(`${at}: system on an entry needs prompt on the same entry`, "add prompt: to the entry, or move system: to the top of the suite");
  const own: Template[] | undefined = e.messages
    ? e.messages
    : e.prompt !== undefined
      ? [
          ...((e.system ?? p.raw.system) !== undefined ? [{ role: "system" as const, content: (e.system ?? p.raw.system) as string }] : []),
          { role: "user", content: e.prompt },
        ]
      : undefined;
  for (const t of own ?? []) {
    const bad = malformedPlaceholder(t.content);
    if (bad !== undefined)
      throw new UserError(
        `${at}: ${bad} in the entry's ${t.role} template is not a variable reference`,
        "write {{column}} where column is a column of the rows",
      );
  }
  const templates = own ?? p.templates;
  if (!templates) throw noTemplate(at);
  return templates;
}

function noTemplate(at: string): UserError {
  return new UserError(`${at}: this case has no prompt`, "add prompt: (or messages:) at the top of the suite, or prompt: on an entry that reads rows");
}

/** A suite with only inline cases and CSV/TSV/JSONL rows; Parquet and hf: entries need loadSuiteAsync. */
export function loadSuite(file: string): Suite {
  const p = parseSuite(file);
  const sources = new Map<number, SourceRows>();
  for (const { i, entry, at } of rowEntries(p)) sources.set(i, readSourceSync(entry, p.dir, at));
  return buildSuite(p, sources);
}

/** Any suite, including Parquet files and Hub datasets (downloaded into the cache by commit). */
export async function loadSuiteAsync(file: string): Promise<Suite> {
  const p = parseSuite(file);
  const sources = new Map<number, SourceRows>();
  for (const { i, entry, at } of rowEntries(p)) sources.set(i, await readSource(entry, p.dir, at));
  return buildSuite(p, sources);
}

interface CaseInput {
  id?: string | undefined;
  vars: Record<string, unknown>;
  expect: Expect | Expect[];
  ideal?: string | undefined;
  tags?: string[] | undefined;
  group?: string | undefined;
  messages?: WireMessage[] | undefined;
  agent?: AgentSpec | undefined;
  turns?: string[] | undefined;
}

function buildSuite(p: ParsedSuite, sources: ReadonlyMap<number, SourceRows>): Suite {
  const { raw, file } = p;
  const cases: Case[] = [];
  const add = (c: CaseInput, source: string, templates: Template[] | undefined) => {
    const index = cases.length;
    const expects = Array.isArray(c.expect) ? c.expect : [c.expect];
    for (const e of expects) checkExpect(e, source);
    if (!c.messages && !templates) throw noTemplate(source);
    const messages = c.messages ? caseConversation(c.messages, raw.system, source) : renderMessages(templates as Template[], c.vars, source);
    checkToolUse({ expects, agent: c.agent, messages }, raw.tools, source);
    cases.push({
      index,
      id: c.id ?? `${raw.name}#${index + 1}`,
      vars: c.vars,
      expects,
      ...(c.ideal !== undefined ? { ideal: c.ideal } : {}),
      ...(c.tags ? { tags: c.tags } : {}),
      ...groupOf(c, raw.groupBy, source),
      source,
      messages,
      ...(c.agent ? { agent: c.agent } : {}),
      ...(c.turns ? { turns: renderTurns(c.turns, c.vars, source) } : {}),
    });
  };

  raw.cases.forEach((entry, i) => {
    const rows = sources.get(i);
    if (rows) {
      const at = entryLine(p, i);
      const templates = entryTemplates(p, entry as RowEntry, at);
      for (const c of expandRows(entry as RowSource, rows.rows, at)) add(c, c.source, templates);
    } else if ("file" in entry && entry.file !== undefined) {
      const jsonl = dataPath(p.dir, entry.file, entryLine(p, i));
      for (const { value, line } of loadJsonlCases(jsonl)) add(value, `${jsonl}:${line}`, p.templates);
    } else if ("hf" in entry) {
      throw new Error("hf entry without rows"); // rowEntries lists every hf entry
    } else {
      add(entry, entryLine(p, i), p.templates);
    }
  });
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id))
      throw new UserError(`${c.source}: duplicate case id "${c.id}" in suite ${raw.name}`, "give each case a unique id, or leave id out to number them");
    ids.add(c.id);
  }
  const datasets = [...sources.values()].map((s) => s.provenance);
  return {
    name: raw.name,
    file,
    ...(raw.description ? { description: raw.description } : {}),
    params: raw.params ?? {},
    ...(raw.tools ? { tools: raw.tools } : {}),
    cases,
    ...(datasets.length ? { datasets } : {}),
  };
}

function renderMessages(templates: { role: Message["role"]; content: string }[], vars: Record<string, unknown>, source: string): Message[] {
  return templates.map((t) => {
    const r = renderTemplate(t.content, vars);
    if ("missing" in r)
      throw new UserError(
        `${source}: case uses {{${r.missing}}} but its vars do not define "${r.missing}"`,
        `add "${r.missing}" to this case's vars, or remove it from the ${t.role} template`,
      );
    return { role: t.role, content: r.text };
  });
}

/** Scripted user turns are templates like the prompt: `{{var}}` from the case's vars, malformed placeholders refused. */
function renderTurns(turns: string[], vars: Record<string, unknown>, source: string): string[] {
  return turns.map((t, i) => {
    const bad = malformedPlaceholder(t);
    if (bad !== undefined)
      throw new UserError(`${source}: turns[${i}]: ${bad} is not a variable reference`, "write {{name}} where name is a case var, or remove the braces");
    const r = renderTemplate(t, vars);
    if ("missing" in r)
      throw new UserError(
        `${source}: turns[${i}] uses {{${r.missing}}} but the case's vars do not define "${r.missing}"`,
        `add "${r.missing}" to this case's vars`,
      );
    return r.text;
  });
}

/** A case's own conversation, sent as written (no templating); the suite's system goes first unless it has one. */
function caseConversation(wire: Parameters<typeof conversationFromWire>[0], system: string | undefined, source: string): Message[] {
  const messages = conversationFromWire(wire, source);
  if (system !== undefined && messages[0]?.role !== "system") messages.unshift({ role: "system", content: system });
  return messages;
}

/** A `{{…}}` that is not a variable reference would be sent literally: refuse it at load, with its line. */
function checkTemplates(file: string, src: ReturnType<typeof parseYaml>, templates: { role: Message["role"]; content: string }[]): void {
  templates.forEach((t, i) => {
    const bad = malformedPlaceholder(t.content);
    if (bad === undefined) return;
    const path = src.doc.has("messages") ? ["messages", i, "content"] : t.role === "system" && src.doc.has("system") ? ["system"] : ["prompt"];
    const node = src.doc.getIn(path, true) as { range?: number[] } | undefined;
    const line = src.lines.linePos(node?.range?.[0] ?? 0).line;
    throw new UserError(
      `${file}:${line}: ${bad} in the ${t.role} template is not a variable reference`,
      "write {{name}} where name is a case var (letters in any script, digits, _; a.b for nested), or remove the braces",
    );
  });
}

function loadJsonlCases(file: string): { value: ReturnType<typeof inlineCaseSchema.parse>; line: number }[] {
  const out: { value: ReturnType<typeof inlineCaseSchema.parse>; line: number }[] = [];
  const lines = readText(file, "cases file").split(/\r?\n/);
  lines.forEach((text, i) => {
    const line = i + 1;
    if (text.trim() === "" || text.trimStart().startsWith("//")) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new UserError(
        `${file}:${line}: not valid JSON (${(e as Error).message})`,
        'each line must be one JSON object like {"vars": {...}, "expect": {...}}',
      );
    }
    const r = inlineCaseSchema.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0];
      if (!issue) throw new UserError(`${file}:${line}: invalid case`);
      throw issueToUserError({ file, line: () => line }, issue, (p) => knownSuiteKeys(["cases", 0, ...p]));
    }
    out.push({ value: r.data, line });
  });
  if (out.length === 0) throw new UserError(`${file}: no cases in file`, "add one JSON object per line");
  return out;
}
