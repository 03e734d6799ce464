/**
 * Tool use for local GGUF models, the generating half: one request through node-llama-cpp's LlamaChat
 * with the chat wrapper it resolves for the model (a specialised one for Qwen, Llama 3.x, Mistral,
 * DeepSeek, gpt-oss…; otherwise the GGUF's own Jinja template, with node-llama-cpp's default call
 * syntax documented in the system prompt when the template has none). The wrapper renders the tools
 * and past calls in the model's syntax, detects a call as it is generated and constrains its
 * parameters with a grammar built from the tool's JSON schema; LlamaChat returns the calls without
 * running them (the runner plays the tools). Plain requests do not come here (local-provider.ts).
 */
import type { ChatWrapper, LlamaContextSequence, Token } from "node-llama-cpp";
import type { ChatRequest, ChatResponse, FinishReason } from "../types.js";
import { ProviderError } from "../types.js";
import { fromLlamaCalls, toLlamaFunctions, toLlamaHistory } from "./tool-history.js";

type Lib = typeof import("node-llama-cpp");

/** A logit bias per generation step (library option; tests steer a random-weight model with it). */
export type StepBias = (step: number) => ReadonlyMap<number, number> | undefined;

export interface ToolChatContext {
  lib: Lib;
  sequence: LlamaContextSequence;
  wrapper: ChatWrapper;
  tokenizer: import("node-llama-cpp").Tokenizer;
  bias?: StepBias;
}

/** Whether a request needs the tool path: tools offered, or tool parts in the conversation. */
export function usesTools(req: ChatRequest): boolean {
  return Boolean(req.tools?.length) || req.messages.some((m) => m.role === "tool" || Boolean(m.toolCalls?.length));
}

export async function chatWithTools(c: ToolChatContext, req: ChatRequest, maxTokens: number): Promise<ChatResponse> {
  const history = toLlamaHistory(req.messages);
  const functions = toLlamaFunctions(req.tools, req.toolChoice);
  // LlamaChat would shift the context (drop early turns) to make room: a silently shortened
  // conversation is not the one the case asked about, so a prompt that does not fit is an error.
  const state = c.wrapper.generateContextState({ chatHistory: history, ...(functions ? { availableFunctions: functions } : {}) });
  const promptTokens = state.contextText.tokenize(c.tokenizer).length;
  const contextSize = c.sequence.context.contextSize;
  if (promptTokens + maxTokens > contextSize)
    throw new ProviderError(`prompt of ${promptTokens} tokens + ${maxTokens} output tokens exceeds the context size ${contextSize}`, { retryable: false });
  const started = performance.now();
  let ttftMs: number | undefined;
  let step = 0;
  const tokenBias = c.bias
    ? () => {
        const b = new c.lib.TokenBias(c.tokenizer);
        for (const [t, v] of c.bias?.(step++) ?? []) b.set(t as Token, { logit: v });
        return b;
      }
    : undefined;
  const outBefore = c.sequence.tokenMeter.usedOutputTokens;
  const chat = new c.lib.LlamaChat({ contextSequence: c.sequence, chatWrapper: c.wrapper, autoDisposeSequence: false });
  try {
    const r = await chat
      .generateResponse(history, {
        ...(functions ? { functions } : {}),
        maxTokens,
        temperature: req.params.temperature ?? 0,
        ...(req.params.topP !== undefined ? { topP: req.params.topP } : {}),
        ...(req.params.seed !== undefined ? { seed: req.params.seed } : {}),
        ...(req.params.stop?.length ? { customStopTriggers: req.params.stop } : {}),
        ...(tokenBias ? { tokenBias } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        onToken: () => {
          ttftMs ??= performance.now() - started;
        },
        ...(req.onChunk ? { onTextChunk: req.onChunk } : {}),
      })
      .catch((e: unknown) => {
        if (req.signal?.aborted) throw e;
        throw new ProviderError(`local generation with tools failed: ${(e as Error).message}`, { retryable: false });
      });
    const toolCalls = fromLlamaCalls(r.functionCalls as { functionName: string; params: unknown }[] | undefined);
    const outputTokens = c.sequence.tokenMeter.usedOutputTokens - outBefore;
    return {
      text: r.response,
      usage: { inputTokens: Math.max(0, c.sequence.contextTokens.length - outputTokens), outputTokens },
      latencyMs: performance.now() - started,
      ...(ttftMs !== undefined ? { ttftMs } : {}),
      finishReason: finishOf(r.metadata.stopReason, toolCalls.length > 0),
      ...(toolCalls.length ? { toolCalls } : {}),
    };
  } finally {
    chat.dispose({ disposeSequence: false });
  }
}

function finishOf(stop: string, hasCalls: boolean): FinishReason {
  if (hasCalls || stop === "functionCalls") return "tool-calls";
  if (stop === "maxTokens") return "length";
  return "stop";
}
