/**
 * The OpenAI chat-completions wire format of tool use, both ways, as pure functions: our Message
 * list → `messages` (assistant `tool_calls` with `type: function`, `role: tool` + `tool_call_id`,
 * content null when the assistant only called), our tools/tool choice → `tools`/`tool_choice`, and a
 * non-streamed answer's `tool_calls` → ToolCalls. Arguments travel as the raw text the model wrote:
 * never parsed, never repaired (graders and the fidelity report judge them).
 */
import { UserError } from "../util/errors.js";
import { badCall, checkedCall, checkedCount, uniqueIds } from "./tools/bounds.js";
import type { ChatRequest, FinishReason, Message, ToolCall } from "./types.js";

export type WireMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: WireToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export function toWireMessage(m: Message, i: number): WireMessage {
  if (m.role === "tool") {
    if (!m.toolCallId) throw new UserError(`message ${i + 1}: a tool message needs the id of the call it answers`, "give it tool_call_id");
    return { role: "tool", tool_call_id: m.toolCallId, content: m.content };
  }
  if (m.role === "assistant" && m.toolCalls?.length) {
    const calls = m.toolCalls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } }));
    return { role: "assistant", content: m.content === "" ? null : m.content, tool_calls: calls };
  }
  return { role: m.role, content: m.content };
}

/** The request fields for tools: none at all for a plain request, `tool_choice` only when given. */
export function wireToolFields(req: Pick<ChatRequest, "tools" | "toolChoice">): Record<string, unknown> {
  if (!req.tools?.length) return {};
  return { tools: req.tools, ...(req.toolChoice !== undefined ? { tool_choice: req.toolChoice } : {}) };
}

/**
 * `finish_reason` as ours. An answer that carries calls but says `stop` (Ollama, some vLLM parsers)
 * is `tool-calls`, and one that says `tool_calls` without a call (a tool parser that failed and left
 * the call in the text) is `stop`: the agent loop keys on the calls, and the reason should not
 * contradict them.
 */
export function mapOpenAiFinishReason(r: string | null | undefined, hasCalls = false): FinishReason {
  switch (r) {
    case "tool_calls":
      return hasCalls ? "tool-calls" : "stop";
    case "stop":
      return hasCalls ? "tool-calls" : "stop";
    case "function_call":
      return "stop"; // the legacy single-function channel, which we do not read
    case "length":
      return "length";
    case "content_filter":
      return "content-filter";
    default:
      return "other";
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Arguments as sent. A string is kept verbatim (malformed JSON included); a JSON object, which a few
 * servers send in place of its serialisation, is serialised (nothing is lost); anything else is nonsense.
 */
export function argumentsText(where: string, v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (isRecord(v)) return JSON.stringify(v);
  throw badCall(`${where}: arguments are a ${Array.isArray(v) ? "list" : typeof v}, not a string`);
}

/** A message or delta that carries calls must be the assistant's (or not say whose it is). */
export function checkCallerRole(role: unknown, calls: unknown): void {
  if (calls === undefined || calls === null || role === undefined || role === null || role === "assistant") return;
  throw badCall(`tool_calls on a message whose role is ${JSON.stringify(role).slice(0, 40)}, not the assistant's`);
}

/** `choices[0].message.tool_calls` of a whole (non-streamed) answer. */
export function parseWireToolCalls(v: unknown): ToolCall[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badCall("tool_calls is not a list");
  checkedCount(v.length);
  return uniqueIds(
    v.map((c: unknown, i) => {
      const where = `tool call ${i + 1}`;
      if (!isRecord(c) || !isRecord(c.function)) throw badCall(`${where} has no function object`);
      if (c.id !== undefined && c.id !== null && typeof c.id !== "string") throw badCall(`${where}: id is not a string`);
      if (typeof c.function.name !== "string") throw badCall(`${where}: name is not a string`);
      return checkedCall(where, (c.id as string | null | undefined) ?? undefined, c.function.name, argumentsText(where, c.function.arguments));
    }),
  );
}
