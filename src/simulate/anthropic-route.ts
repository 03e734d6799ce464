/**
 * The simulator's Anthropic Messages route (/v1/messages), streamed or not. Tool cases are played as
 * on the OpenAI route (conversation.ts): `tool_use` / `tool_result` blocks are read back into the
 * conversation, and calls are answered as `tool_use` blocks (streamed as `input_json_delta`s) with
 * stop_reason `tool_use`.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Message, ToolCall } from "../providers/index.js";
import { sleep } from "../util/duration.js";
import { answer, countTokens } from "./behaviour.js";
import { pieces, type SimContext } from "./context.js";
import { answerConversation, type SimAnswer } from "./conversation.js";

interface Body {
  system?: string;
  messages?: unknown[];
  max_tokens?: number;
  stream?: boolean;
  tools?: { name?: unknown }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** One Anthropic message as ours: text blocks joined, tool_use → toolCalls, each tool_result → a tool message. */
function fromAnthropic(v: unknown): Message[] {
  const m = isRecord(v) ? v : {};
  const role = m.role === "assistant" ? "assistant" : "user";
  if (typeof m.content === "string") return [{ role, content: m.content }];
  const blocks = Array.isArray(m.content) ? m.content.filter(isRecord) : [];
  const text = blocks
    .filter((b) => b.type === "text")
    .map((b) => String(b.text ?? ""))
    .join("");
  const calls: ToolCall[] = blocks
    .filter((b) => b.type === "tool_use")
    .map((b) => ({ id: String(b.id ?? ""), name: String(b.name ?? ""), arguments: JSON.stringify(b.input ?? {}) }));
  const results: Message[] = blocks
    .filter((b) => b.type === "tool_result")
    .map((b) => ({
      role: "tool",
      toolCallId: String(b.tool_use_id ?? ""),
      content: typeof b.content === "string" ? b.content : JSON.stringify(b.content ?? ""),
    }));
  const own: Message[] = text || calls.length || results.length === 0 ? [{ role, content: text, ...(calls.length ? { toolCalls: calls } : {}) }] : [];
  return [...results, ...own];
}

/** A call's input object; arguments that are not an object (badJson) go out as their text in a streamed delta only. */
function inputOf(c: ToolCall): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(c.arguments);
    return isRecord(v) ? v : {};
  } catch {
    return {};
  }
}

function contentBlocks(a: SimAnswer): object[] {
  return [
    ...(a.text ? [{ type: "text", text: a.text }] : []),
    ...(a.toolCalls ?? []).map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: inputOf(c) })),
  ];
}

async function stream(ctx: SimContext, reply: FastifyReply, head: object, a: SimAnswer, stop: string, usage: { input: number; output: number }): Promise<void> {
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  ctx.beginStream(reply);
  reply.raw.write(ev("message_start", { message: { ...head, content: [], usage: { input_tokens: usage.input, output_tokens: 1 } } }));
  const parts: string[] = [];
  let index = 0;
  if (a.text || !a.toolCalls?.length) {
    parts.push(ev("content_block_start", { index, content_block: { type: "text", text: "" } }));
    for (const p of pieces(a.text)) parts.push(ev("content_block_delta", { index, delta: { type: "text_delta", text: p } }));
    parts.push(ev("content_block_stop", { index }));
    index++;
  }
  for (const c of a.toolCalls ?? []) {
    parts.push(ev("content_block_start", { index, content_block: { type: "tool_use", id: c.id, name: c.name, input: {} } }));
    for (const p of pieces(c.arguments)) parts.push(ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: p } }));
    parts.push(ev("content_block_stop", { index }));
    index++;
  }
  await ctx.streamChunks(reply, parts, (p) => p, [
    ev("message_delta", { delta: { stop_reason: stop }, usage: { output_tokens: usage.output } }),
    ev("message_stop", {}),
  ]);
}

export function registerAnthropicRoute(app: FastifyInstance, ctx: SimContext): void {
  app.post("/v1/messages", async (req, reply) => {
    const body = req.body as Body;
    if (!body?.max_tokens) return reply.code(400).send({ type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" } });
    const messages: Message[] = [...(body.system ? [{ role: "system" as const, content: body.system }] : []), ...(body.messages ?? []).flatMap(fromAnthropic)];
    ctx.track(messages);
    if (ctx.injectFailure(reply)) return reply;
    await sleep(ctx.latency());
    const b = ctx.o.behaviour;
    const tools = (body.tools ?? []).map((t) => t?.name).filter((n): n is string => typeof n === "string");
    const conv = b.mode === "script" ? answerConversation(b, messages, tools) : undefined;
    const calls = conv?.toolCalls ?? [];
    const { text, finish } = calls.length ? { text: conv?.text ?? "", finish: "tool_use" } : ctx.truncate(conv?.text ?? answer(b, messages), body.max_tokens);
    const a: SimAnswer = { text, ...(calls.length ? { toolCalls: calls } : {}) };
    const inputTokens = countTokens(messages.map((m) => m.content + (m.toolCalls ?? []).map((c) => c.name + c.arguments).join("")).join("\n"));
    const outputTokens = countTokens(text + calls.map((c) => c.name + c.arguments).join(""));
    const stop = finish === "tool_use" ? "tool_use" : finish === "length" ? "max_tokens" : "end_turn";
    const head = { id: `msg_sim_${ctx.stats.requests}`, type: "message", role: "assistant", model: ctx.modelName };
    if (!body.stream) return { ...head, content: contentBlocks(a), stop_reason: stop, usage: { input_tokens: inputTokens, output_tokens: outputTokens } };
    await stream(ctx, reply, head, a, stop, { input: inputTokens, output: outputTokens });
    return reply;
  });
}
