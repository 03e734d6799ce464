/**
 * YAML with positions: parse a file into a plain value and keep the document, so that a schema
 * error can be reported as file:line with what to change.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Document, isMap, isPair, isScalar, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { UserError } from "../util/errors.js";

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  value: unknown;
}

export function parseYaml(file: string, text: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    const msg = first.message.split("\n")[0] ?? first.message;
    throw new UserError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${msg}`, yamlHint(first.code));
  }
  return { file, doc, lines, value: doc.toJS({ maxAliasCount: 100 }) };
}

function yamlHint(code: string): string {
  switch (code) {
    case "DUPLICATE_KEY":
      return "each key may appear once per mapping; remove or rename the duplicate";
    case "BAD_INDENT":
    case "MISSING_CHAR":
      return "check indentation (spaces, not tabs) and that every list item starts with '- '";
    case "TAB_AS_INDENT":
      return "YAML indents with spaces; replace the tab";
    default:
      return "fix the YAML syntax at that position";
  }
}

type PathKey = string | number | symbol;

/** Line (1-based) of the node at `path`, or of the nearest ancestor that exists. */
export function lineOf(src: YamlSource, path: readonly PathKey[], key?: string): number {
  for (let len = path.length; len >= 0; len--) {
    const p = path.slice(0, len).map((k) => (typeof k === "symbol" ? String(k) : k));
    const node = len === 0 ? src.doc.contents : src.doc.getIn(p, true);
    if (key !== undefined && len === path.length && isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) return src.lines.linePos(range[0]).line;
    }
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return src.lines.linePos(range[0]).line;
  }
  return 1;
}

export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const k of path) out += typeof k === "number" ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || "(top level)";
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = Math.min((dp[j] as number) + 1, (dp[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}

export function didYouMean(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

type Issue = z.core.$ZodIssue;

/** Allowed values of the discriminators we use, for "use one of" hints. */
const DISCRIMINATOR_VALUES: Record<string, readonly string[]> = {};
export function registerDiscriminator(key: string, values: readonly string[]): void {
  DISCRIMINATOR_VALUES[key] = values;
}

/**
 * Zod reports a failed union as one issue holding every branch's issues (paths relative to the union).
 * Descend into the branch that applies: skip branches where the whole value has the wrong type, prefer
 * the fewest issues, and within a branch report an unknown key (a typo) before a missing field.
 */
function resolveUnion(issue: Issue, prefix: readonly PathKey[]): { issue: Issue; path: PathKey[] } {
  const path = [...prefix, ...issue.path];
  if (issue.code !== "invalid_union" || !("errors" in issue) || issue.errors.length === 0) return { issue, path };
  const branches = issue.errors.filter((b) => !(b.length === 1 && b[0]?.code === "invalid_type" && b[0].path.length === 0));
  // Fewest issues first; on a tie, the branch that knows more of the keys (fewer unrecognized ones).
  const unknown = (b: Issue[]) => b.reduce((a, i) => a + (i.code === "unrecognized_keys" ? i.keys.length : 0), 0);
  const best = [...(branches.length ? branches : issue.errors)].sort((x, y) => x.length - y.length || unknown(x) - unknown(y))[0] ?? [];
  const ordered = [...best].sort((x, y) => (x.code === "unrecognized_keys" ? 0 : 1) - (y.code === "unrecognized_keys" ? 0 : 1));
  const first = ordered[0];
  return first ? resolveUnion(first, path) : { issue, path };
}

/** Turn the first zod issue into "file:line: path: problem" with a hint. */
export function issueToUserError(
  src: { file: string; line: (path: readonly PathKey[], key?: string) => number },
  raw: Issue,
  knownKeys?: (path: readonly PathKey[]) => string[],
): UserError {
  const { issue, path } = resolveUnion(raw, []);
  const where = formatPath(path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const key = issue.keys[0] ?? "";
      const known = knownKeys?.(path) ?? [];
      const guess = didYouMean(key, known);
      return new UserError(
        `${src.file}:${src.line(path, key)}: ${formatPath([...path, key])}: unknown key "${key}"`,
        guess ? `did you mean "${guess}"?` : known.length ? `allowed keys here: ${known.join(", ")}` : "remove it",
      );
    }
    case "invalid_type": {
      const line = src.line(path);
      if (issue.message.includes("received undefined"))
        return new UserError(`${src.file}:${line}: ${where}: required field is missing`, `add "${String(path[path.length - 1] ?? "")}" (${issue.expected})`);
      return new UserError(`${src.file}:${line}: ${where}: ${issue.message}`, `change it to a ${issue.expected}`);
    }
    case "invalid_value": {
      const values = issue.values.map((v) => JSON.stringify(v));
      return new UserError(`${src.file}:${src.line(path)}: ${where}: ${issue.message}`, `use one of: ${values.join(", ")}`);
    }
    case "invalid_union": {
      const disc = (issue as { discriminator?: string }).discriminator;
      const allowed = disc ? DISCRIMINATOR_VALUES[disc] : undefined;
      if (disc)
        return new UserError(
          `${src.file}:${src.line(path)}: ${where}: "${disc}" is missing or not an allowed value`,
          allowed ? `use one of: ${allowed.join(", ")}` : "see docs/config.md",
        );
      return new UserError(`${src.file}:${src.line(path)}: ${where}: ${issue.message}`, "see docs/config.md for the allowed shapes");
    }
    default:
      return new UserError(`${src.file}:${src.line(path)}: ${where}: ${issue.message}`, "see docs/config.md for this field");
  }
}

/** Validate a parsed YAML value against a schema; the first problem becomes a file:line UserError. */
export function parseWith<S extends z.ZodType>(src: YamlSource, schema: S, knownKeys?: (path: readonly PathKey[]) => string[]): z.output<S> {
  const result = schema.safeParse(src.value);
  if (result.success) return result.data;
  // An unknown key usually explains a "missing" one beside it (a typo): report it first.
  const issue = [...result.error.issues].sort((a, b) => (a.code === "unrecognized_keys" ? 0 : 1) - (b.code === "unrecognized_keys" ? 0 : 1))[0];
  if (!issue) throw new UserError(`${src.file}: invalid`);
  throw issueToUserError({ file: src.file, line: (p, k) => lineOf(src, p, k) }, issue, knownKeys);
}

/** Read a YAML file and validate it: unreadable files and invalid content are UserErrors with file:line. */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, what: string, hint: string): z.output<S> {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? e})`, hint);
  }
  return parseWith(parseYaml(path, text), schema);
}
