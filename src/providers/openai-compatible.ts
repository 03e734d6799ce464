/**
 * OpenAI-compatible chat completions: vLLM, SGLang, llama.cpp server, Ollama, LM Studio, and the
 * hosted APIs that speak the protocol (OpenAI, DeepSeek, DashScope, Moonshot, Together, OpenRouter…).
 * Streams to measure time-to-first-token and asks for usage in the stream.
 */
import { apiKeyFrom, estimateTokens, httpError, postJson, toProviderError } from "./http.js";
import { SseDecoder } from "./sse.js";
import { type ChatRequest, type ChatResponse, type FinishReason, type Provider, ProviderError, SIMULATED_HEADER } from "./types.js";

export interface OpenAiCompatibleOptions<K extends OpenAiKind = OpenAiKind> {
  id: string;
  /** Which definition this client serves (default openai-compatible). */
  kind?: K;
  baseUrl: string;
  model: string;
  apiKeyEnv?: string;
  headers?: Record<string, string>;
  connections?: number;
}

export function mapOpenAiFinishReason(r: string | null | undefined): FinishReason {
  switch (r) {
    case "stop":
    case "tool_calls":
    case "function_call":
      return "stop";
    case "length":
      return "length";
    case "content_filter":
      return "content-filter";
    case null:
    case undefined:
      return "other";
    default:
      return "other";
  }
}

interface StreamChunk {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

/** The kinds served by this client. */
export type OpenAiKind = "openai-compatible" | "openai";

export function createOpenAiCompatibleProvider<K extends OpenAiKind = "openai-compatible">(o: OpenAiCompatibleOptions<K>): Provider<K> {
  const base = o.baseUrl.replace(/\/+$/, "");
  const key = apiKeyFrom(o.apiKeyEnv, o.id);
  const headers: Record<string, string> = { ...(o.headers ?? {}), ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const connections = o.connections ?? 64;
  const chatUrl = new URL(`${base}/chat/completions`);
  const embeddingsUrl = new URL(`${base}/embeddings`);
  const kind = o.kind ?? ("openai-compatible" as K);

  return {
    id: o.id,
    kind,
    cacheIdentity: { kind, baseUrl: base, model: o.model },
    async chat(req: ChatRequest): Promise<ChatResponse> {
      const p = req.params;
      const body = {
        model: o.model,
        messages: req.messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(p.maxTokens !== undefined ? { max_tokens: p.maxTokens } : {}),
        ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
        ...(p.topP !== undefined ? { top_p: p.topP } : {}),
        ...(p.seed !== undefined ? { seed: p.seed } : {}),
        ...(p.stop ? { stop: p.stop } : {}),
        ...(req.extraBody ?? {}),
      };
      const started = performance.now();
      let text = "";
      let ttftMs: number | undefined;
      let finish: string | null | undefined;
      let usage: StreamChunk["usage"];
      const sse = new SseDecoder();
      let sawChoices = false;
      const onEvent = (data: string) => {
        if (data === "[DONE]") return;
        let chunk: StreamChunk;
        try {
          chunk = JSON.parse(data) as StreamChunk;
        } catch {
          throw new ProviderError(`malformed stream chunk: ${data.slice(0, 200)}`, { retryable: false });
        }
        if (Array.isArray(chunk.choices)) sawChoices = true;
        if (chunk.error) throw new ProviderError(`stream error: ${chunk.error.message ?? "unknown"}`, { retryable: true });
        const choice = chunk.choices?.[0];
        const piece = choice?.delta?.content;
        if (piece) {
          ttftMs ??= performance.now() - started;
          text += piece;
          req.onChunk?.(piece);
        }
        if (choice?.finish_reason) finish = choice.finish_reason;
        if (chunk.usage) usage = chunk.usage;
      };
      const res = await postJson(chatUrl, body, {
        headers: { ...headers, accept: "text/event-stream" },
        connections,
        ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        onStreamText: (t) => {
          for (const ev of sse.push(t)) onEvent(ev.data);
        },
      }).catch((e: unknown) => {
        throw toProviderError(e);
      });
      if (res.status >= 400) throw httpError(res);
      if (res.streamed) {
        for (const ev of sse.end()) onEvent(ev.data);
        // A stream without a single choices array is not an answer (it would be scored as an empty one).
        if (!sawChoices) throw new ProviderError("malformed response: the event stream carried no choices", { retryable: false });
      } else {
        // The server ignored stream: true; read the whole JSON answer.
        let j: { choices?: { message?: { content?: string | null }; finish_reason?: string }[]; usage?: StreamChunk["usage"] };
        try {
          j = JSON.parse(res.text) as typeof j;
        } catch {
          throw new ProviderError(`malformed response: ${res.text.slice(0, 200)}`, { retryable: false });
        }
        if (!Array.isArray(j?.choices) || typeof j.choices[0]?.message !== "object" || j.choices[0]?.message === null)
          throw new ProviderError(`malformed response: no choices[0].message in ${res.text.slice(0, 200)}`, { retryable: false });
        text = j.choices?.[0]?.message?.content ?? "";
        finish = j.choices?.[0]?.finish_reason;
        usage = j.usage;
      }
      const latencyMs = performance.now() - started;
      const haveUsage = usage?.prompt_tokens !== undefined && usage.completion_tokens !== undefined;
      return {
        text,
        usage: haveUsage
          ? { inputTokens: usage?.prompt_tokens ?? 0, outputTokens: usage?.completion_tokens ?? 0 }
          : {
              inputTokens: estimateTokens(req.messages.map((m) => m.content).join("\n")),
              outputTokens: estimateTokens(text),
              estimated: true,
            },
        latencyMs,
        ...(ttftMs !== undefined ? { ttftMs } : {}),
        finishReason: mapOpenAiFinishReason(finish),
        ...(res.headers[SIMULATED_HEADER] ? { simulated: true } : {}),
      };
    },
    async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
      const res = await postJson(embeddingsUrl, { model: o.model, input: texts }, { headers, connections, ...(signal ? { signal } : {}) }).catch(
        (e: unknown) => {
          throw toProviderError(e);
        },
      );
      if (res.status >= 400) throw httpError(res);
      let j: { data?: { index?: number; embedding?: number[] }[] };
      try {
        j = JSON.parse(res.text) as typeof j;
      } catch {
        throw new ProviderError(`malformed embeddings response: ${res.text.slice(0, 200)}`, { retryable: true });
      }
      const data = j.data ?? [];
      if (data.length !== texts.length) throw new ProviderError(`embeddings: asked for ${texts.length}, got ${data.length}`, { retryable: false });
      return [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((d) => d.embedding ?? []);
    },
    async close() {},
  };
}
