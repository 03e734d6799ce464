/**
 * What a simulated model answers: for each case of the given suites, the right answer (derived from
 * its expects or `ideal`) and plausible wrong ones. Whether a case is answered right is decided by a
 * hash of (seed, prompt) against the accuracy, so a simulated model is consistent run to run.
 */

import type { Case, Expect, Suite } from "../config/index.js";
import type { Message, ToolDefinition } from "../providers/index.js";
import { sha256Hex, stableStringify } from "../util/hash.js";
import type { ToolStep } from "./conversation.js";

export interface ScriptedAnswer {
  right: string;
  wrong: string[];
  /** Tool cases and conversations: the answers in order (conversation.ts). */
  steps?: ToolStep[];
}

export type Script = Map<string, ScriptedAnswer>;

export function promptKey(messages: readonly Message[]): string {
  return sha256Hex(stableStringify(messages.map((m) => [m.role, m.content])));
}

const isToolExpect = (e: Expect) => e.type === "tool-call" || e.type === "tool-sequence";

function rightAnswer(all: Expect[], ideal: string | undefined): string {
  if (ideal !== undefined) return ideal;
  const expects = all.filter((e) => !isToolExpect(e));
  const e = expects[0];
  if (!e) return "OK";
  switch (e.type) {
    case "equals":
      return String(e.value);
    case "label":
    case "contains":
    case "similarity":
      return e.value;
    case "contains-any":
      return e.values[0] ?? "";
    case "contains-all":
      return e.values.join(", ");
    case "number":
      return String(e.value);
    case "json-match":
      return JSON.stringify(e.value);
    case "ranking":
      return (
        e.gains
          ? Object.entries(e.gains)
              .sort((a, b) => b[1] - a[1])
              .map(([id]) => id)
          : e.relevant
      ).join(", ");
    default:
      return "OK";
  }
}

function wrongAnswers(all: Expect[], labelPool: string[]): string[] {
  const e = all.filter((x) => !isToolExpect(x))[0];
  if (!e) return ["I don't know."];
  switch (e.type) {
    case "equals":
    case "label": {
      const v = String(e.value).toLowerCase();
      const others = labelPool.filter((l) => l.toLowerCase() !== v);
      return others.length ? others : ["other"];
    }
    case "number":
      return [String(e.value + Math.max(1, Math.abs(e.value) * 0.5))];
    case "json-match":
      return [JSON.stringify(Object.fromEntries(Object.keys(e.value).map((k) => [k, "unknown"])))];
    case "ranking":
      return [["x-000", "x-001", e.relevant[e.relevant.length - 1] ?? "x-002"].join(", ")];
    default:
      return ["I'm not sure I can help with that."];
  }
}

export function scriptFromSuites(suites: readonly Suite[]): Script {
  const script: Script = new Map();
  for (const s of suites) {
    const pool = [
      ...new Set(
        s.cases.flatMap((c) => c.expects.filter((e) => e.type === "label" || e.type === "equals").map((e) => String((e as { value: unknown }).value))),
      ),
    ];
    for (const c of s.cases) {
      const right = rightAnswer(c.expects, c.ideal);
      const steps = s.tools?.length || c.agent || c.turns?.length ? stepsOf(c, right, s.tools) : undefined;
      script.set(promptKey(c.messages), { right, wrong: wrongAnswers(c.expects, pool), ...(steps ? { steps } : {}) });
    }
  }
  return script;
}

/** Required parameters filled with a value of their type, so a call named without arguments is still schema-valid. */
function placeholders(tool: ToolDefinition | undefined): Record<string, unknown> {
  const p = tool?.function.parameters as { properties?: Record<string, { type?: string }>; required?: string[] } | undefined;
  const fill: Record<string, unknown> = { string: "simulated", number: 1, integer: 1, boolean: true, array: [], object: {} };
  return Object.fromEntries((p?.required ?? []).map((k) => [k, fill[p?.properties?.[k]?.type ?? "string"] ?? "simulated"]));
}

/** Arguments for a call the case names without any: the first mock's `when` (so the mock answers it), else placeholders. */
function mockArguments(c: Case, name: string, tools: readonly ToolDefinition[] | undefined): Record<string, unknown> {
  const spec = c.agent?.mocks[name];
  const first = Array.isArray(spec) ? spec[0] : spec;
  return first?.when ?? placeholders(tools?.find((t) => t.function.name === name));
}

/** The right conversation: the expected calls in order, then the right text (once per scripted user turn). */
function stepsOf(c: Case, right: string, tools: readonly ToolDefinition[] | undefined): ToolStep[] {
  const calls: ToolStep[] = [];
  for (const e of c.expects) {
    if (e.type === "tool-call" && e.name !== undefined && calls.length === 0)
      calls.push({ call: { name: e.name, arguments: e.arguments ?? mockArguments(c, e.name, tools) } });
    if (e.type === "tool-sequence" && calls.length === 0)
      for (const x of e.calls) {
        const call = typeof x === "string" ? { name: x } : x;
        calls.push({ call: { name: call.name, arguments: call.arguments ?? mockArguments(c, call.name, tools) } });
      }
  }
  const texts: ToolStep[] = Array.from({ length: 1 + (c.turns?.length ?? 0) }, () => ({ text: right }));
  return [...calls, ...texts];
}

/** A number in [0, 1) fixed by the seed and the text. */
export function unitHash(seed: number, text: string): number {
  return Number.parseInt(sha256Hex(`${seed}\u0000${text}`).slice(0, 12), 16) / 2 ** 48;
}
