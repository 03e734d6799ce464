/**
 * The simulator's OpenAI-compatible routes: /v1/chat/completions (streamed or not, with tool calls
 * as `tool_calls` or as streamed tool-call deltas), /v1/completions, /v1/embeddings, /v1/models.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Message, ToolCall } from "../providers/index.js";
import { sleep } from "../util/duration.js";
import { answer, countTokens, embedText } from "./behaviour.js";
import { filler, pieces, type SimContext } from "./context.js";
import { answerConversation, type SimAnswer } from "./conversation.js";

interface ChatBody {
  model?: string;
  messages?: unknown[];
  stream?: boolean;
  max_tokens?: number;
  /** vLLM's extension: generate exactly max_tokens tokens. */
  ignore_eos?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { function?: { name?: unknown } }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A wire message as our Message (content null → "", tool_calls → toolCalls); the simulator trusts its clients loosely. */
function fromWire(v: unknown): Message {
  const m = isRecord(v) ? v : {};
  const role = (["system", "user", "assistant", "tool"].includes(String(m.role)) ? m.role : "user") as Message["role"];
  const calls = Array.isArray(m.tool_calls)
    ? m.tool_calls.filter(isRecord).map((c) => {
        const f = isRecord(c.function) ? c.function : {};
        return {
          id: String(c.id ?? ""),
          name: String(f.name ?? ""),
          arguments: typeof f.arguments === "string" ? f.arguments : JSON.stringify(f.arguments ?? {}),
        };
      })
    : [];
  return {
    role,
    content: typeof m.content === "string" ? m.content : "",
    ...(calls.length ? { toolCalls: calls } : {}),
    ...(typeof m.tool_call_id === "string" ? { toolCallId: m.tool_call_id } : {}),
  };
}

const wireCalls = (calls: readonly ToolCall[]) => calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));

function respond(ctx: SimContext, body: ChatBody, messages: Message[]): SimAnswer & { finish: string } {
  const b = ctx.o.behaviour;
  if (body.ignore_eos && body.max_tokens) return { text: filler(body.max_tokens), finish: "length" };
  const tools = (body.tools ?? []).map((t) => t?.function?.name).filter((n): n is string => typeof n === "string");
  const conv = b.mode === "script" ? answerConversation(b, messages, tools) : undefined;
  if (conv?.toolCalls?.length) return { ...conv, finish: "tool_calls" };
  return ctx.truncate(conv?.text ?? answer(b, messages), body.max_tokens);
}

/** The stream's chunks: text pieces, then each call's header and its arguments in pieces. */
function streamParts(a: SimAnswer, chunk: (delta: object) => string): string[] {
  const out = a.text ? pieces(a.text).map((p) => chunk({ content: p })) : [];
  (a.toolCalls ?? []).forEach((c, index) => {
    out.push(
      chunk({
        ...(index === 0 && !a.text ? { role: "assistant" } : {}),
        tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }],
      }),
    );
    for (const p of pieces(c.arguments)) out.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
  });
  return out;
}

async function chat(ctx: SimContext, body: ChatBody, reply: FastifyReply): Promise<unknown> {
  const messages = Array.isArray(body?.messages) ? body.messages.map(fromWire) : [];
  if (messages.length === 0) return reply.code(400).send({ error: { message: "messages is required", type: "invalid_request_error" } });
  ctx.track(messages);
  if (ctx.injectFailure(reply)) return reply;
  ctx.stats.inFlight++;
  ctx.stats.maxInFlight = Math.max(ctx.stats.maxInFlight, ctx.stats.inFlight);
  try {
    await sleep(ctx.latency());
  } finally {
    ctx.stats.inFlight--;
  }
  const a = respond(ctx, body, messages);
  const calls = a.toolCalls ?? [];
  const sent = messages.map((m) => m.content + (m.toolCalls ?? []).map((c) => c.name + c.arguments).join("")).join("\n");
  const usage = { prompt_tokens: countTokens(sent), completion_tokens: countTokens(a.text + calls.map((c) => c.name + c.arguments).join("")) };
  const full = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
  const id = `chatcmpl-sim-${ctx.stats.requests}`;
  const created = Math.floor(Date.now() / 1000);
  const model = ctx.modelName;
  if (!body.stream) {
    const message = { role: "assistant", content: calls.length && !a.text ? null : a.text, ...(calls.length ? { tool_calls: wireCalls(calls) } : {}) };
    return { id, object: "chat.completion", created, model, choices: [{ index: 0, message, finish_reason: a.finish }], usage: full };
  }
  const chunk = (delta: object, finishReason: string | null = null) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
  const tail = [chunk({}, a.finish)];
  if (body.stream_options?.include_usage)
    tail.push(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage: full })}\n\n`);
  tail.push("data: [DONE]\n\n");
  ctx.beginStream(reply);
  await ctx.streamChunks(reply, streamParts(a, chunk), (p) => p, tail);
  return reply;
}

export function registerOpenAiRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.get("/v1/models", async () => ({ object: "list", data: [{ id: ctx.modelName, object: "model", owned_by: "weightbridge-simulator" }] }));
  app.post("/v1/chat/completions", (req, reply) => chat(ctx, req.body as ChatBody, reply));

  app.post("/v1/completions", async (req, reply) => {
    const body = req.body as { prompt?: string; max_tokens?: number };
    const prompt = typeof body?.prompt === "string" ? body.prompt : "";
    const messages: Message[] = [{ role: "user", content: prompt }];
    ctx.track(messages);
    if (ctx.injectFailure(reply)) return reply;
    await sleep(ctx.latency());
    const { text, finish } = ctx.truncate(answer(ctx.o.behaviour, messages), body.max_tokens);
    return {
      id: `cmpl-sim-${ctx.stats.requests}`,
      object: "text_completion",
      model: ctx.modelName,
      choices: [{ index: 0, text, finish_reason: finish }],
      usage: { prompt_tokens: countTokens(prompt), completion_tokens: countTokens(text), total_tokens: countTokens(prompt) + countTokens(text) },
    };
  });

  app.post("/v1/embeddings", async (req, reply) => {
    const body = req.body as { input?: string | string[] };
    const input = typeof body?.input === "string" ? [body.input] : Array.isArray(body?.input) ? body.input : [];
    ctx.stats.requests++;
    ctx.stats.embeddings++;
    if (ctx.injectFailure(reply)) return reply;
    await sleep(ctx.latency());
    return {
      object: "list",
      model: ctx.modelName,
      data: input.map((t, index) => ({ object: "embedding", index, embedding: embedText(String(t)) })),
      usage: { prompt_tokens: input.reduce((a, t) => a + countTokens(String(t)), 0), total_tokens: 0 },
    };
  });
}
