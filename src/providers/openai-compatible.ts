/**
 * OpenAI-compatible chat completions: vLLM, SGLang, llama.cpp server, Ollama, LM Studio, and the
 * hosted APIs that speak the protocol (OpenAI, DeepSeek, DashScope, Moonshot, Together, OpenRouter…).
 * Streams to measure time-to-first-token and asks for usage in the stream.
 */
import { apiKeyFrom, estimateTokens, httpError, postJson, toProviderError } from "./http.js";
import { ToolCallDeltas } from "./openai-tool-deltas.js";
import { checkCallerRole, mapOpenAiFinishReason, parseWireToolCalls, toWireMessage, wireToolFields } from "./openai-wire.js";
import { SseDecoder } from "./sse.js";
import { type ChatRequest, type ChatResponse, type Provider, ProviderError, SIMULATED_HEADER, type ToolCall } from "./types.js";

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

export { mapOpenAiFinishReason } from "./openai-wire.js";

interface StreamChunk {
  choices?: { delta?: { role?: unknown; content?: string | null; reasoning_content?: string | null; tool_calls?: unknown }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

/** What an answer carried, streamed or not, before it becomes a ChatResponse. */
interface Answer {
  text: string;
  toolCalls: ToolCall[];
  finish: string | null | undefined;
  usage: StreamChunk["usage"];
  ttftMs?: number;
}

/** A streamed answer: text pieces and tool-call fragments accumulate until the stream ends. */
function streamReader(req: ChatRequest, started: number) {
  const a: Answer = { text: "", toolCalls: [], finish: undefined, usage: undefined };
  const deltas = new ToolCallDeltas();
  let sawChoices = false;
  let sawDone = false;
  const onEvent = (data: string) => {
    if (data === "[DONE]") {
      sawDone = true;
      return;
    }
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
      a.ttftMs ??= performance.now() - started;
      a.text += piece;
      req.onChunk?.(piece);
    }
    if (choice?.delta?.tool_calls !== undefined) {
      checkCallerRole(choice.delta.role, choice.delta.tool_calls);
      a.ttftMs ??= performance.now() - started;
      deltas.push(choice.delta.tool_calls);
    }
    if (choice?.finish_reason) a.finish = choice.finish_reason;
    if (chunk.usage) a.usage = chunk.usage;
  };
  const finish = (): Answer => {
    // A stream without a single choices array is not an answer (it would be scored as an empty one).
    if (!sawChoices) throw new ProviderError("malformed response: the event stream carried no choices", { retryable: false });
    // Calls without a finish_reason or [DONE]: the connection ended mid-answer, and a cut call is not the model's.
    if (deltas.size > 0 && !a.finish && !sawDone)
      throw new ProviderError("the stream ended in the middle of a tool call (no finish_reason, no [DONE])", { retryable: true });
    return { ...a, toolCalls: deltas.finish() };
  };
  return { onEvent, finish };
}

/** The server ignored stream: true; read the whole JSON answer. */
function wholeAnswer(text: string): Answer {
  let j: { choices?: { message?: { role?: unknown; content?: string | null; tool_calls?: unknown }; finish_reason?: string }[]; usage?: StreamChunk["usage"] };
  try {
    j = JSON.parse(text) as typeof j;
  } catch {
    throw new ProviderError(`malformed response: ${text.slice(0, 200)}`, { retryable: false });
  }
  const message = Array.isArray(j?.choices) ? j.choices[0]?.message : undefined;
  if (typeof message !== "object" || message === null)
    throw new ProviderError(`malformed response: no choices[0].message in ${text.slice(0, 200)}`, { retryable: false });
  checkCallerRole(message.role, message.tool_calls);
  return { text: message.content ?? "", toolCalls: parseWireToolCalls(message.tool_calls), finish: j.choices?.[0]?.finish_reason, usage: j.usage };
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
        messages: req.messages.map(toWireMessage),
        stream: true,
        stream_options: { include_usage: true },
        ...(p.maxTokens !== undefined ? { max_tokens: p.maxTokens } : {}),
        ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
        ...(p.topP !== undefined ? { top_p: p.topP } : {}),
        ...(p.seed !== undefined ? { seed: p.seed } : {}),
        ...(p.stop ? { stop: p.stop } : {}),
        ...wireToolFields(req),
        ...(req.extraBody ?? {}),
      };
      const started = performance.now();
      const sse = new SseDecoder();
      const reader = streamReader(req, started);
      const res = await postJson(chatUrl, body, {
        headers: { ...headers, accept: "text/event-stream" },
        connections,
        ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        onStreamText: (t) => {
          for (const ev of sse.push(t)) reader.onEvent(ev.data);
        },
      }).catch((e: unknown) => {
        throw toProviderError(e);
      });
      if (res.status >= 400) throw httpError(res);
      if (res.streamed) for (const ev of sse.end()) reader.onEvent(ev.data);
      const a = res.streamed ? reader.finish() : wholeAnswer(res.text);
      return toResponse(req, a, performance.now() - started, Boolean(res.headers[SIMULATED_HEADER]));
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

function toResponse(req: ChatRequest, a: Answer, latencyMs: number, simulated: boolean): ChatResponse {
  const u = a.usage;
  const haveUsage = u?.prompt_tokens !== undefined && u.completion_tokens !== undefined;
  const callText = a.toolCalls.map((c) => c.name + c.arguments).join("");
  return {
    text: a.text,
    usage: haveUsage
      ? { inputTokens: u?.prompt_tokens ?? 0, outputTokens: u?.completion_tokens ?? 0 }
      : {
          inputTokens: estimateTokens(req.messages.map((m) => m.content).join("\n")),
          outputTokens: estimateTokens(a.text + callText),
          estimated: true,
        },
    latencyMs,
    ...(a.ttftMs !== undefined ? { ttftMs: a.ttftMs } : {}),
    finishReason: mapOpenAiFinishReason(a.finish, a.toolCalls.length > 0),
    ...(a.toolCalls.length ? { toolCalls: a.toolCalls } : {}),
    ...(simulated ? { simulated: true } : {}),
  };
}
