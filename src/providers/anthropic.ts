/**
 * Anthropic Messages API, streamed (message_start / content_block_start / content_block_delta /
 * message_delta events); tool use mapped both ways by anthropic-wire.ts and anthropic-tool-blocks.ts.
 */

import { ToolUseBlocks } from "./anthropic-tool-blocks.js";
import { anthropicToolFields, mapAnthropicStopReason, toAnthropicMessages } from "./anthropic-wire.js";
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

interface AnthropicEvent {
  type?: string;
  index?: unknown;
  content_block?: unknown;
  message?: { usage?: { input_tokens?: number; output_tokens?: number } };
  delta?: { type?: string; text?: string; partial_json?: unknown; stop_reason?: string | null };
  usage?: { output_tokens?: number; input_tokens?: number };
  error?: { type?: string; message?: string };
}

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
      const p = req.params;
      const { system, messages } = toAnthropicMessages(req.messages);
      const body = {
        model: o.model,
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
      const started = performance.now();
      let text = "";
      let ttftMs: number | undefined;
      let inputTokens: number | undefined;
      let outputTokens: number | undefined;
      let stop: string | null | undefined;
      const sse = new SseDecoder();
      const calls = new ToolUseBlocks();
      const onEvent = (ev: { event?: string; data: string }) => {
        let e: AnthropicEvent;
        try {
          e = JSON.parse(ev.data) as AnthropicEvent;
        } catch {
          throw new ProviderError(`malformed stream event: ${ev.data.slice(0, 200)}`, { retryable: true });
        }
        const type = e.type ?? ev.event;
        if (type === "message_start") {
          inputTokens = e.message?.usage?.input_tokens;
          outputTokens = e.message?.usage?.output_tokens;
        } else if (type === "content_block_delta" && e.delta?.type === "text_delta" && e.delta.text) {
          ttftMs ??= performance.now() - started;
          text += e.delta.text;
          req.onChunk?.(e.delta.text);
        } else if (type === "content_block_start") {
          calls.start(e.index, e.content_block);
        } else if (type === "content_block_delta" && e.delta?.type === "input_json_delta") {
          ttftMs ??= performance.now() - started;
          calls.delta(e.index, e.delta.partial_json);
        } else if (type === "message_delta") {
          if (e.delta?.stop_reason) stop = e.delta.stop_reason;
          if (e.usage?.output_tokens !== undefined) outputTokens = e.usage.output_tokens;
          if (e.usage?.input_tokens !== undefined) inputTokens = e.usage.input_tokens;
        } else if (type === "error") {
          const transient = e.error?.type === "overloaded_error" || e.error?.type === "rate_limit_error" || e.error?.type === "api_error";
          throw new ProviderError(`stream error: ${e.error?.type ?? ""} ${e.error?.message ?? ""}`.trim(), { retryable: transient });
        }
      };
      const res = await postJson(messagesUrl, body, {
        headers,
        connections,
        ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        onStreamText: (t) => {
          for (const ev of sse.push(t)) onEvent(ev);
        },
      }).catch((e: unknown) => {
        throw toProviderError(e);
      });
      if (res.status >= 400) throw httpError(res);
      if (res.streamed) for (const ev of sse.end()) onEvent(ev);
      else throw new ProviderError(`expected an event stream, got ${String(res.headers["content-type"] ?? "no content type")}`, { retryable: false });
      // Calls without a stop reason: the connection ended mid-answer, and a cut call is not the model's.
      if (calls.size > 0 && !stop) throw new ProviderError("the stream ended in the middle of a tool call (no stop_reason)", { retryable: true });
      const toolCalls = calls.finish();
      return {
        text,
        usage: { inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0, ...(inputTokens === undefined ? { estimated: true } : {}) },
        latencyMs: performance.now() - started,
        ...(ttftMs !== undefined ? { ttftMs } : {}),
        finishReason: mapAnthropicStopReason(stop),
        ...(toolCalls.length ? { toolCalls } : {}),
        ...(res.headers[SIMULATED_HEADER] ? { simulated: true } : {}),
      };
    },
    async close() {},
  };
}
