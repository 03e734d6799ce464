/**
 * Tool-use cases at load time: a case's conversation in OpenAI wire form (`tool_calls`, `role: tool`
 * + `tool_call_id`) becomes the internal Message list, and what a case says about tools (expects,
 * mocks) is checked against the suite's `tools` — so a misspelt tool name or a tool result that
 * answers no call is a file:line error before any request is sent, not a silently failing case.
 */
import type { Message, ToolCall, ToolDefinition } from "../providers/index.js";
import { UserError } from "../util/errors.js";
import type { AgentSpec, Expect, WireMessage } from "./suite-schema.js";

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Map wire messages to Messages; every tool message must answer a call made earlier and not yet answered. */
export function conversationFromWire(wire: readonly WireMessage[], source: string): Message[] {
  const open = new Set<string>();
  const seen = new Set<string>();
  return wire.map((w, i) => {
    const where = `${source}: messages[${i}]`;
    if (w.tool_calls && w.role !== "assistant")
      throw new UserError(`${where}: only an assistant message may carry tool_calls`, "move the calls to an assistant message");
    if (w.role === "tool") {
      if (!w.tool_call_id) throw new UserError(`${where}: a tool message needs tool_call_id`, "set tool_call_id to the id of the assistant's call it answers");
      if (!open.has(w.tool_call_id))
        throw new UserError(
          `${where}: tool_call_id "${w.tool_call_id}" answers no earlier unanswered call`,
          "each tool message answers one call from an assistant message before it, by its id",
        );
      open.delete(w.tool_call_id);
      return { role: "tool", content: w.content ?? "", toolCallId: w.tool_call_id };
    }
    if (w.tool_call_id) throw new UserError(`${where}: only a tool message may carry tool_call_id`, "remove tool_call_id, or set role: tool");
    if (!w.tool_calls && (w.content === undefined || w.content === null))
      throw new UserError(`${where}: a ${w.role} message needs content`, "give it content: TEXT");
    const calls: ToolCall[] | undefined = w.tool_calls?.map((c) => {
      if (seen.has(c.id)) throw new UserError(`${where}: tool call id "${c.id}" is used twice`, "give each call in the conversation its own id");
      seen.add(c.id);
      open.add(c.id);
      const args = typeof c.function.arguments === "string" ? c.function.arguments : JSON.stringify(c.function.arguments);
      // Every provider must be able to send the call back (Anthropic's tool_use.input is an object).
      if (!isJsonObject(args))
        throw new UserError(`${where}: the arguments of call "${c.id}" are not a JSON object`, `write them as a JSON object string, e.g. '{"order_id":"77"}'`);
      return { id: c.id, name: c.function.name, arguments: args };
    });
    return { role: w.role, content: w.content ?? "", ...(calls ? { toolCalls: calls } : {}) };
  });
}

function names(tools: readonly ToolDefinition[] | undefined): Set<string> {
  return new Set((tools ?? []).map((t) => t.function.name));
}

function unknownTool(source: string, what: string, name: string, known: Set<string>): UserError {
  return known.size === 0
    ? new UserError(`${source}: ${what} names tool "${name}" but the suite offers no tools`, "add the tool to the suite's `tools:` list")
    : new UserError(`${source}: ${what} names tool "${name}", which is not in the suite's tools`, `known tools: ${[...known].join(", ")}`);
}

/** Tool expects and mocks must name tools the suite offers; a tool case needs tools. */
export function checkToolUse(
  c: { expects: readonly Expect[]; agent?: AgentSpec | undefined; messages?: readonly Message[] | undefined },
  tools: readonly ToolDefinition[] | undefined,
  source: string,
): void {
  const known = names(tools);
  for (const e of c.expects) {
    if (e.type === "tool-call") {
      if (e.none && (e.name !== undefined || e.arguments !== undefined))
        throw new UserError(`${source}: tool-call expectation: none: true cannot also give name or arguments`, "use one expectation per intent");
      if (!e.none && e.name === undefined)
        throw new UserError(`${source}: tool-call expectation needs name (or none: true)`, "e.g. { type: tool-call, name: get_order_status }");
      if (e.name !== undefined && !known.has(e.name)) throw unknownTool(source, "tool-call expectation", e.name, known);
      if (e.none && known.size === 0) throw new UserError(`${source}: tool-call none: true, but the suite offers no tools`, "add `tools:` to the suite");
    }
    if (e.type === "tool-sequence")
      for (const call of e.calls) {
        const n = typeof call === "string" ? call : call.name;
        if (!known.has(n)) throw unknownTool(source, "tool-sequence expectation", n, known);
      }
  }
  if (c.agent) {
    if (known.size === 0)
      throw new UserError(`${source}: agent: the suite offers no tools to play`, "add `tools:` to the suite, or use `turns:` for a conversation without tools");
    for (const n of Object.keys(c.agent.mocks)) if (!known.has(n)) throw unknownTool(source, "agent.mocks", n, known);
  }
  for (const m of c.messages ?? [])
    for (const call of m.toolCalls ?? []) if (!known.has(call.name)) throw unknownTool(source, "an assistant tool call", call.name, known);
}
