/**
 * Tool graders, over the whole conversation: `tool-call` (the first answer's call: name, arguments
 * as a subset or exactly; or `none: true`, no call anywhere) and `tool-sequence` (the calls of every
 * answer, in order or not, with or without extra calls). Only calls the API returned through its
 * tool channel count; a call written as text fails, with the convention named in the detail.
 */
import type { ToolCall } from "../../providers/index.js";
import { stableStringify } from "../../util/hash.js";
import { detectTextCall } from "../text-calls.js";
import { type AnswerTurn, binary, type Grader } from "./types.js";

export type ArgumentMatch = "exact" | "subset";

/** The arguments as a JSON object, or why not. */
export function parseArguments(raw: string): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw === "" ? "{}" : raw);
  } catch {
    return { ok: false, reason: "arguments are not valid JSON" };
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return { ok: false, reason: "arguments are not a JSON object" };
  return { ok: true, value: v as Record<string, unknown> };
}

/** `expected` within `actual`: objects recursively by key (subset) or whole (exact); everything else equal as JSON. */
export function matches(expected: unknown, actual: unknown, mode: ArgumentMatch): boolean {
  if (mode === "subset" && expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(expected as Record<string, unknown>).every(([k, v]) => k in a && matches(v, a[k], mode));
  }
  return stableStringify(expected) === stableStringify(actual);
}

/** Whether a call is `name` with these arguments; the reason when it is not. */
export function callMatches(call: ToolCall, name: string, args: Record<string, unknown> | undefined, mode: ArgumentMatch): string | undefined {
  if (call.name !== name) return `called ${call.name}, expected ${name}`;
  if (args === undefined) return undefined;
  const parsed = parseArguments(call.arguments);
  if (!parsed.ok) return `${name}: ${parsed.reason}`;
  return matches(args, parsed.value, mode)
    ? undefined
    : `${name}: arguments ${call.arguments} do not match ${mode === "exact" ? "exactly " : ""}${JSON.stringify(args)}`;
}

function answersOf(ctx: { output: string; answers?: readonly AnswerTurn[] }): readonly AnswerTurn[] {
  return ctx.answers ?? [{ text: ctx.output, toolCalls: [] }];
}

/** Detail naming calls written as text in any answer (the API never returned them). */
function textCallDetail(answers: readonly AnswerTurn[]): Record<string, unknown> {
  for (const a of answers) {
    if (a.toolCalls.length) continue;
    const t = detectTextCall(a.text);
    if (t) return { textCall: t.format, ...(t.name ? { textCallName: t.name } : {}) };
  }
  return {};
}

export const toolCall: Grader<"tool-call"> = (e, ctx) => {
  const answers = answersOf(ctx);
  if (e.none) {
    const made = answers.flatMap((a) => a.toolCalls).map((c) => c.name);
    const text = textCallDetail(answers);
    if (made.length) return binary("tool-call", false, { reason: `expected no tool call, got ${made.join(", ")}` });
    if ("textCall" in text) return binary("tool-call", false, { reason: "expected no tool call, but the answer writes one as text", ...text });
    return binary("tool-call", true);
  }
  const name = e.name ?? "";
  const calls = answers.find((a) => a.toolCalls.length > 0)?.toolCalls ?? [];
  if (calls.length === 0) {
    const text = textCallDetail(answers);
    return binary("tool-call", false, {
      reason: "textCall" in text ? `no tool call returned by the API (the answer writes a ${text.textCall} call as text)` : "no tool call",
      ...text,
    });
  }
  const mode = e.match ?? "subset";
  const reasons = calls.map((c) => callMatches(c, name, e.arguments, mode));
  if (reasons.some((r) => r === undefined)) return binary("tool-call", true);
  return binary("tool-call", false, { reason: reasons.join("; "), called: calls.map((c) => c.name) });
};

type ExpectedCall = { name: string; arguments?: Record<string, unknown> | undefined; match?: ArgumentMatch | undefined };

function isMatch(call: ToolCall, want: ExpectedCall): boolean {
  return callMatches(call, want.name, want.arguments, want.match ?? "subset") === undefined;
}

/** Ordered: `want` is a subsequence of `got` (allowExtra) or matches it one to one. */
function orderedOk(got: readonly ToolCall[], want: readonly ExpectedCall[], allowExtra: boolean): boolean {
  if (!allowExtra) return got.length === want.length && want.every((w, i) => isMatch(got[i] as ToolCall, w));
  let i = 0;
  for (const c of got) if (i < want.length && isMatch(c, want[i] as ExpectedCall)) i++;
  return i === want.length;
}

/** Unordered: each expected call is matched by a distinct call (greedy over the few calls of a conversation). */
function unorderedOk(got: readonly ToolCall[], want: readonly ExpectedCall[], allowExtra: boolean): boolean {
  if (!allowExtra && got.length !== want.length) return false;
  const used = new Set<number>();
  // Specific expectations (with arguments) first, so a bare name does not take the call they need.
  const sorted = [...want].sort((a, b) => (b.arguments ? 1 : 0) - (a.arguments ? 1 : 0));
  for (const w of sorted) {
    const i = got.findIndex((c, j) => !used.has(j) && isMatch(c, w));
    if (i < 0) return false;
    used.add(i);
  }
  return true;
}

export const toolSequence: Grader<"tool-sequence"> = (e, ctx) => {
  const answers = answersOf(ctx);
  const got = answers.flatMap((a) => a.toolCalls);
  const want: ExpectedCall[] = e.calls.map((c) => (typeof c === "string" ? { name: c } : c));
  const ordered = e.ordered ?? true;
  const allowExtra = e.allowExtra ?? true;
  const ok = ordered ? orderedOk(got, want, allowExtra) : unorderedOk(got, want, allowExtra);
  if (ok) return binary("tool-sequence", true);
  return binary("tool-sequence", false, {
    reason: `expected ${ordered ? "" : "(any order) "}${want.map((w) => w.name).join(" -> ")}${allowExtra ? "" : " and nothing else"}; called ${got.map((c) => c.name).join(" -> ") || "nothing"}`,
    called: got.map((c) => c.name),
    ...(got.length === 0 ? textCallDetail(answers) : {}),
  });
};
