/**
 * How a simulated model plays tool cases and conversations. A case whose suite offers tools, or that
 * has an agent or scripted turns, is scripted as steps (a call, then the final text); the answer to
 * a request is the step after the assistant turns already in it, found by the case's own messages
 * (the longest prefix of the request that is a scripted case). Whether the case is answered right
 * is the usual hash of (seed, case) against the accuracy; a wrong case makes one error at its first
 * call, its kind drawn by a second hash in the configured proportions: wrong tool, wrong argument,
 * the call written as text (Hermes `<tool_call>`), no call, or arguments that are not JSON. Pure.
 */
import type { Message, ToolCall } from "../providers/index.js";
import { promptKey, type Script, unitHash } from "./script.js";

export type ToolErrorKind = "wrongTool" | "wrongArgument" | "asText" | "noCall" | "badJson";
export type ToolErrorMix = Record<ToolErrorKind, number>;

/** Equal shares of the four errors issue 19 names; malformed JSON only when asked for. */
export const DEFAULT_TOOL_ERRORS: ToolErrorMix = { wrongTool: 1, wrongArgument: 1, asText: 1, noCall: 1, badJson: 0 };
export const TOOL_ERROR_KINDS = Object.keys(DEFAULT_TOOL_ERRORS) as ToolErrorKind[];

export type ToolStep = { call: { name: string; arguments: Record<string, unknown> } } | { text: string };

export interface SimAnswer {
  text: string;
  toolCalls?: ToolCall[];
}

const NO_CALL = "I'm not sure I can help with that.";

/** The scripted case a request continues, and how many assistant answers it already holds. */
function findCase(script: Script, messages: readonly Message[]): { key: string; steps: ToolStep[]; wrong: string[]; answered: number } | undefined {
  for (let end = messages.length; end > 0; end--) {
    if (end < messages.length && messages[end]?.role !== "assistant") continue;
    const key = promptKey(messages.slice(0, end));
    const entry = script.get(key);
    if (entry?.steps) return { key, steps: entry.steps, wrong: entry.wrong, answered: messages.slice(end).filter((m) => m.role === "assistant").length };
  }
  return undefined;
}

export function pickError(mix: ToolErrorMix, u: number): ToolErrorKind {
  const total = TOOL_ERROR_KINDS.reduce((a, k) => a + Math.max(0, mix[k]), 0);
  let acc = 0;
  for (const k of TOOL_ERROR_KINDS) {
    acc += Math.max(0, mix[k]) / (total || 1);
    if (u < acc) return k;
  }
  return "noCall";
}

function callId(key: string, turn: number): string {
  return `call_${key.slice(0, 12)}_${turn}`;
}

/** The first argument changed: strings get "-x", numbers +1, anything else null. */
function wrongArguments(args: Record<string, unknown>): Record<string, unknown> | undefined {
  const [k, v] = Object.entries(args)[0] ?? [];
  if (k === undefined) return undefined;
  return { ...args, [k]: typeof v === "string" ? `${v}-x` : typeof v === "number" ? v + 1 : null };
}

function erred(kind: ToolErrorKind, call: { name: string; arguments: Record<string, unknown> }, id: string, tools: readonly string[]): SimAnswer {
  const json = JSON.stringify(call.arguments);
  switch (kind) {
    case "wrongTool": {
      const other = tools.find((t) => t !== call.name);
      return other ? { text: "", toolCalls: [{ id, name: other, arguments: "{}" }] } : { text: NO_CALL };
    }
    case "wrongArgument": {
      const w = wrongArguments(call.arguments);
      return w ? { text: "", toolCalls: [{ id, name: call.name, arguments: JSON.stringify(w) }] } : { text: NO_CALL };
    }
    case "asText":
      return { text: `<tool_call>\n${JSON.stringify({ name: call.name, arguments: call.arguments })}\n</tool_call>` };
    case "badJson":
      return { text: "", toolCalls: [{ id, name: call.name, arguments: json.slice(0, -1) }] };
    default:
      return { text: NO_CALL };
  }
}

/**
 * The answer to a request that continues a scripted conversation; undefined when the request is not
 * one (plain cases are answered by behaviour.ts). `tools`: names offered in the request.
 */
export function answerConversation(
  o: { script: Script; seed: number; accuracy: number; toolErrors?: ToolErrorMix },
  messages: readonly Message[],
  tools: readonly string[],
): SimAnswer | undefined {
  const found = findCase(o.script, messages);
  if (!found) return undefined;
  const { key, steps, answered } = found;
  const step = steps[Math.min(answered, steps.length - 1)] as ToolStep;
  const right = unitHash(o.seed, key) < o.accuracy;
  const firstCall = steps.findIndex((s) => "call" in s);
  // Without calls to get wrong, a wrong case answers its text wrong (as a plain case would).
  if ("text" in step)
    return { text: right || firstCall >= 0 ? step.text : (found.wrong[Math.floor(unitHash(o.seed + 1, key) * found.wrong.length)] ?? NO_CALL) };
  const id = callId(key, answered);
  if (answered !== firstCall || right) return { text: "", toolCalls: [{ id, name: step.call.name, arguments: JSON.stringify(step.call.arguments) }] };
  return erred(pickError(o.toolErrors ?? DEFAULT_TOOL_ERRORS, unitHash(o.seed + 2, key)), step.call, id, tools);
}
