/**
 * Anthropic Messages API, streamed (message_start / content_block_start / content_block_delta /
 * message_delta events); tool use mapped both ways by anthropic-wire.ts and anthropic-tool-blocks.ts.
 */
import { AnthropicStream } from "./anthropic-stream.js";
import { anthropicToolFields, toAnthropicMessages } from "./anthropic-wire.js";
import { apiKeyFrom, httpError, postJson, toProviderError } from "./http.js";
import { SseDecoder } from "./sse.js";
import { type ChatRequest, type ChatResponse, type Provider, ProviderError, SIMULATED_HEADER } from "./types.js";

export interface AnthropicOptions {
  id: string;
  baseUrl?: string;
  model: string;
  apiKeyEnv?: string;
  headers?: Record<string, string>;
  connections?: number;
}

export const ANTHROPIC_VERSION = "2023-06-01";
const DEFAULT_MAX_TOKENS = 1024;

export { mapAnthropicStopReason } from "./anthropic-wire.js";

export function createAnthropicProvider(o: AnthropicOptions): Provider<"anthropic"> {
  const base = (o.baseUrl ?? "https://api.anthropic.com").replace(/\/+$/, "").replace(/\/v1$/, "");
  const key = apiKeyFrom(o.apiKeyEnv ?? "ANTHROPIC_API_KEY", o.id);
  const headers: Record<string, string> = { ...(o.headers ?? {}), "anthropic-version": ANTHROPIC_VERSION, ...(key ? { "x-api-key": key } : {}) };
  const connections = o.connections ?? 64;
  const messagesUrl = new URL(`${base}/v1/messages`);

  return {
    id: o.id,
    kind: "anthropic",
    cacheIdentity: { kind: "anthropic", baseUrl: base, model: o.model },
    async chat(req: ChatRequest): Promise<ChatResponse> {
      const body = requestBody(o.model, req);
      const stream = new AnthropicStream(performance.now(), req.onChunk);
      const sse = new SseDecoder();
      const res = await postJson(messagesUrl, body, {
        headers,
        connections,
        ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        onStreamText: (t) => {
          for (const ev of sse.push(t)) stream.onEvent(ev);
        },
      }).catch((e: unknown) => {
        throw toProviderError(e);
      });
      if (res.status >= 400) throw httpError(res);
      if (res.streamed) for (const ev of sse.end()) stream.onEvent(ev);
      else throw new ProviderError(`expected an event stream, got ${String(res.headers["content-type"] ?? "no content type")}`, { retryable: false });
      return stream.response(Boolean(res.headers[SIMULATED_HEADER]));
    },
    async close() {},
  };
}

/** The Messages API request: streamed, temperature capped at 1 (Anthropic's range), tools mapped. */
function requestBody(model: string, req: ChatRequest): Record<string, unknown> {
  const p = req.params;
  const { system, messages } = toAnthropicMessages(req.messages);
  return {
    model,
    max_tokens: p.maxTokens ?? DEFAULT_MAX_TOKENS,
    stream: true,
    messages,
    ...(system ? { system } : {}),
    ...(p.temperature !== undefined ? { temperature: Math.min(1, p.temperature) } : {}),
    ...(p.topP !== undefined ? { top_p: p.topP } : {}),
    ...(p.stop ? { stop_sequences: p.stop } : {}),
    ...anthropicToolFields(req),
    ...(req.extraBody ?? {}),
  };
}
