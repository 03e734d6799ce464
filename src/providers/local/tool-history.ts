/**
 * Tool use for local GGUF models, the pure half: our messages and tools as node-llama-cpp's chat
 * history and functions, and its function calls back as ToolCalls. node-llama-cpp keeps a call and
 * its result together in one model response, so each assistant call is paired here with the `tool`
 * message that answers it (by id); a call the conversation never answers, or a result for no call,
 * is the suite's mistake (UserError). Call arguments in the history must be JSON objects, since the
 * chat wrapper re-renders them in the model's own call syntax.
 */
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions } from "node-llama-cpp";
import { UserError } from "../../util/errors.js";
import { checkedCall, checkedCount, madeUpCallId } from "../tools/bounds.js";
import type { Message, ToolCall, ToolChoice, ToolDefinition } from "../types.js";

/** The tools offered, as node-llama-cpp functions (its grammar then constrains the call's parameters). */
export function toLlamaFunctions(tools: readonly ToolDefinition[] | undefined, choice: ToolChoice | undefined): ChatModelFunctions | undefined {
  if (!tools?.length || choice === "none") return undefined;
  const wanted = typeof choice === "object" ? tools.filter((t) => t.function.name === choice.function.name) : tools;
  if (wanted.length === 0) throw new UserError(`tool_choice names "${typeof choice === "object" ? choice.function.name : ""}", which is not among the tools`);
  // fromEntries defines own properties: a tool named `__proto__` stays a tool, never the object's prototype.
  const out = Object.fromEntries(
    wanted.map((t) => [
      t.function.name,
      {
        ...(t.function.description !== undefined ? { description: t.function.description } : {}),
        ...(t.function.parameters !== undefined ? { params: t.function.parameters } : {}),
      },
    ]),
  );
  return out as ChatModelFunctions;
}

function paramsOf(c: ToolCall, i: number): unknown {
  if (c.arguments.trim() === "") return undefined;
  try {
    const v: unknown = JSON.parse(c.arguments);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v;
  } catch {
    /* reported below */
  }
  throw new UserError(`message ${i + 1}, call ${c.name}: its arguments are not a JSON object`, "write the arguments as a JSON object");
}

/** A tool's result as the chat wrapper renders it: JSON stays JSON, other text stays a string. */
function resultOf(content: string): unknown {
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}

/** The conversation as node-llama-cpp chat history, ending with the empty model response to generate. */
export function toLlamaHistory(messages: readonly Message[]): ChatHistoryItem[] {
  const results = new Map<string, { content: string; used: boolean }>();
  messages.forEach((m, i) => {
    if (m.role !== "tool") return;
    if (!m.toolCallId) throw new UserError(`message ${i + 1}: a tool message needs the id of the call it answers`, "give it tool_call_id");
    results.set(m.toolCallId, { content: m.content, used: false });
  });
  const history: ChatHistoryItem[] = [];
  messages.forEach((m, i) => {
    if (m.role === "system" || m.role === "user") history.push({ type: m.role, text: m.content });
    else if (m.role === "assistant") {
      const calls = (m.toolCalls ?? []).map((c): ChatModelFunctionCall => {
        const r = results.get(c.id);
        if (!r)
          throw new UserError(`message ${i + 1}: call ${c.id} (${c.name}) has no tool result in the conversation`, "add a tool message with its tool_call_id");
        r.used = true;
        return { type: "functionCall", name: c.name, params: paramsOf(c, i), result: resultOf(r.content) };
      });
      history.push({ type: "model", response: [...(m.content ? [m.content] : []), ...calls] });
    }
  });
  for (const [id, r] of results) if (!r.used) throw new UserError(`a tool message answers call ${id}, which no assistant message made`);
  history.push({ type: "model", response: [] });
  return history;
}

/** node-llama-cpp's calls as ours: params serialised (its grammar made them valid JSON), a fresh id each. */
export function fromLlamaCalls(calls: readonly { functionName: string; params: unknown }[] | undefined): ToolCall[] {
  if (!calls?.length) return [];
  checkedCount(calls.length);
  return calls.map((c, i) => checkedCall(`tool call ${i + 1}`, madeUpCallId(), c.functionName, c.params === undefined ? "{}" : JSON.stringify(c.params)));
}
