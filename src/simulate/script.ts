/**
 * What a simulated model answers: for each case of the given suites, the right answer (derived from
 * its expects or `ideal`) and plausible wrong ones. Whether a case is answered right is decided by a
 * hash of (seed, prompt) against the accuracy, so a simulated model is consistent run to run.
 */

import type { Expect, Suite } from "../config/index.js";
import type { Message } from "../providers/index.js";
import { sha256Hex, stableStringify } from "../util/hash.js";

export interface ScriptedAnswer {
  right: string;
  wrong: string[];
}

export type Script = Map<string, ScriptedAnswer>;

export function promptKey(messages: readonly Message[]): string {
  return sha256Hex(stableStringify(messages.map((m) => [m.role, m.content])));
}

function rightAnswer(expects: Expect[], ideal: string | undefined): string {
  if (ideal !== undefined) return ideal;
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

function wrongAnswers(expects: Expect[], labelPool: string[]): string[] {
  const e = expects[0];
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
    for (const c of s.cases) script.set(promptKey(c.messages), { right: rightAnswer(c.expects, c.ideal), wrong: wrongAnswers(c.expects, pool) });
  }
  return script;
}

/** A number in [0, 1) fixed by the seed and the text. */
export function unitHash(seed: number, text: string): number {
  return Number.parseInt(sha256Hex(`${seed}\u0000${text}`).slice(0, 12), 16) / 2 ** 48;
}
