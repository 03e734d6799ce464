/**
 * Anthropic's Messages API wire format of tool use, as pure functions: OpenAI function tools →
 * `tools` (`input_schema`), our tool choice → Anthropic's, and our Message list → `system` + messages
 * where assistant calls become `tool_use` blocks and `role: tool` messages become `tool_result`
 * blocks of a user message (consecutive results, and a user text right after them, merged into one
 * user message, since Anthropic wants every result of one assistant turn in the next user turn).
 */
import { UserError } from "../util/errors.js";
import { type ChatRequest, type FinishReason, type Message, ProviderError, type ToolChoice, type ToolDefinition } from "./types.js";

type Block =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "tool_result"; tool_use_id: string; content: string };

export interface AnthropicWireMessage {
  role: "user" | "assistant";
  content: string | Block[];
}

export function mapAnthropicStopReason(r: string | null | undefined): FinishReason {
  switch (r) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "tool_use":
      return "tool-calls";
    case "max_tokens":
      return "length";
    case "refusal":
      return "content-filter";
    default:
      return "other";
  }
}

export function toAnthropicTools(tools: readonly ToolDefinition[]): { name: string; description?: string; input_schema: Record<string, unknown> }[] {
  return tools.map((t) => ({
    name: t.function.name,
    ...(t.function.description !== undefined ? { description: t.function.description } : {}),
    input_schema: t.function.parameters ?? { type: "object", properties: {} },
  }));
}

export function toAnthropicToolChoice(c: ToolChoice): Record<string, string> {
  if (c === "auto") return { type: "auto" };
  if (c === "none") return { type: "none" };
  if (c === "required") return { type: "any" };
  return { type: "tool", name: c.function.name };
}

/** The request fields for tools: none at all for a plain request. */
export function anthropicToolFields(req: Pick<ChatRequest, "tools" | "toolChoice">): Record<string, unknown> {
  if (!req.tools?.length) return {};
  return { tools: toAnthropicTools(req.tools), ...(req.toolChoice !== undefined ? { tool_choice: toAnthropicToolChoice(req.toolChoice) } : {}) };
}

/** A call's arguments as the object `tool_use.input` must be; "" is {}; anything else is the suite's mistake. */
function inputOf(args: string, where: string): Record<string, unknown> {
  if (args.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    v = undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    // Suites' own calls are checked at load time, so this is a call the model made earlier in the
    // conversation: that case ends as an error (not retried), the run goes on.
    throw new ProviderError(`${where}: its arguments are not a JSON object, and Anthropic's tool_use cannot carry them back`, {
      retryable: false,
    });
  return v as Record<string, unknown>;
}

function assistantBlocks(m: Message, i: number): Block[] {
  const calls = (m.toolCalls ?? []).map(
    (c): Block => ({ type: "tool_use", id: c.id, name: c.name, input: inputOf(c.arguments, `message ${i + 1}, call ${c.name}`) }),
  );
  return [...(m.content ? [{ type: "text" as const, text: m.content }] : []), ...calls];
}

/** The system prompt and the conversation, in Anthropic's shape. */
export function toAnthropicMessages(messages: readonly Message[]): { system: string; messages: AnthropicWireMessage[] } {
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => m.content)
    .join("\n\n");
  const out: AnthropicWireMessage[] = [];
  let openResults: Block[] | undefined; // the content of the user message tool results are gathered into
  messages.forEach((m, i) => {
    if (m.role === "system") return;
    if (m.role === "tool") {
      if (!m.toolCallId) throw new UserError(`message ${i + 1}: a tool message needs the id of the call it answers`, "give it tool_call_id");
      const block: Block = { type: "tool_result", tool_use_id: m.toolCallId, content: m.content };
      if (openResults) openResults.push(block);
      else {
        openResults = [block];
        out.push({ role: "user", content: openResults });
      }
      return;
    }
    if (m.role === "user" && openResults) {
      openResults.push({ type: "text", text: m.content });
      return;
    }
    openResults = undefined;
    if (m.role === "assistant" && m.toolCalls?.length) out.push({ role: "assistant", content: assistantBlocks(m, i) });
    else out.push({ role: m.role, content: m.content });
  });
  return { system, messages: out };
}
