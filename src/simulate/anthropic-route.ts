/** The simulator's Anthropic Messages route (/v1/messages), streamed or not; text answers only. */
import type { FastifyInstance } from "fastify";
import type { Message } from "../providers/index.js";
import { sleep } from "../util/duration.js";
import { answer, countTokens } from "./behaviour.js";
import { pieces, type SimContext } from "./context.js";

export function registerAnthropicRoute(app: FastifyInstance, ctx: SimContext): void {
  app.post("/v1/messages", async (req, reply) => {
    const body = req.body as { system?: string; messages?: Message[]; max_tokens?: number; stream?: boolean };
    if (!body?.max_tokens) return reply.code(400).send({ type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" } });
    const messages: Message[] = [...(body.system ? [{ role: "system" as const, content: body.system }] : []), ...(body.messages ?? [])];
    ctx.track(messages);
    if (ctx.injectFailure(reply)) return reply;
    await sleep(ctx.latency());
    const { text, finish } = ctx.truncate(answer(ctx.o.behaviour, messages), body.max_tokens);
    const inputTokens = countTokens(messages.map((m) => m.content).join("\n"));
    const stop = finish === "length" ? "max_tokens" : "end_turn";
    const msgId = `msg_sim_${ctx.stats.requests}`;
    const model = ctx.modelName;
    if (!body.stream)
      return {
        id: msgId,
        type: "message",
        role: "assistant",
        model,
        content: [{ type: "text", text }],
        stop_reason: stop,
        usage: { input_tokens: inputTokens, output_tokens: countTokens(text) },
      };
    const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    ctx.beginStream(reply);
    reply.raw.write(
      ev("message_start", {
        message: { id: msgId, type: "message", role: "assistant", model, content: [], usage: { input_tokens: inputTokens, output_tokens: 1 } },
      }),
    );
    reply.raw.write(ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
    await ctx.streamChunks(reply, pieces(text), (p) => ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: p } }), [
      ev("content_block_stop", { index: 0 }),
      ev("message_delta", { delta: { stop_reason: stop }, usage: { output_tokens: countTokens(text) } }),
      ev("message_stop", {}),
    ]);
    return reply;
  });
}
