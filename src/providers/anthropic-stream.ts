/**
 * One streamed answer of Anthropic's Messages API, read event by event (message_start /
 * content_block_start / content_block_delta / message_delta / error): the text, the tool-use
 * blocks (anthropic-tool-blocks.ts), the usage and the stop reason, then the ChatResponse. Its own
 * unit so the event rules can be followed (and tested) without a connection.
 */
import { ToolUseBlocks } from "./anthropic-tool-blocks.js";
import { mapAnthropicStopReason } from "./anthropic-wire.js";
import { type ChatResponse, ProviderError } from "./types.js";

interface AnthropicEvent {
  type?: string;
  index?: unknown;
  content_block?: unknown;
  message?: { usage?: { input_tokens?: number; output_tokens?: number } };
  delta?: { type?: string; text?: string; partial_json?: unknown; stop_reason?: string | null };
  usage?: { output_tokens?: number; input_tokens?: number };
  error?: { type?: string; message?: string };
}

export class AnthropicStream {
  private text = "";
  private ttftMs: number | undefined;
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  private stop: string | null | undefined;
  private readonly calls = new ToolUseBlocks();

  constructor(
    /** performance.now() when the request was sent. */
    private readonly started: number,
    private readonly onChunk?: (text: string) => void,
  ) {}

  /** One server-sent event; throws a ProviderError for a malformed event or an error event (retryable when transient). */
  onEvent(ev: { event?: string; data: string }): void {
    let e: AnthropicEvent;
    try {
      e = JSON.parse(ev.data) as AnthropicEvent;
    } catch {
      throw new ProviderError(`malformed stream event: ${ev.data.slice(0, 200)}`, { retryable: true });
    }
    const type = e.type ?? ev.event;
    if (type === "message_start") {
      this.inputTokens = e.message?.usage?.input_tokens;
      this.outputTokens = e.message?.usage?.output_tokens;
    } else if (type === "content_block_delta" && e.delta?.type === "text_delta" && e.delta.text) {
      this.ttftMs ??= performance.now() - this.started;
      this.text += e.delta.text;
      this.onChunk?.(e.delta.text);
    } else if (type === "content_block_start") {
      this.calls.start(e.index, e.content_block);
    } else if (type === "content_block_delta" && e.delta?.type === "input_json_delta") {
      this.ttftMs ??= performance.now() - this.started;
      this.calls.delta(e.index, e.delta.partial_json);
    } else if (type === "message_delta") {
      if (e.delta?.stop_reason) this.stop = e.delta.stop_reason;
      if (e.usage?.output_tokens !== undefined) this.outputTokens = e.usage.output_tokens;
      if (e.usage?.input_tokens !== undefined) this.inputTokens = e.usage.input_tokens;
    } else if (type === "error") {
      const transient = e.error?.type === "overloaded_error" || e.error?.type === "rate_limit_error" || e.error?.type === "api_error";
      throw new ProviderError(`stream error: ${e.error?.type ?? ""} ${e.error?.message ?? ""}`.trim(), { retryable: transient });
    }
  }

  /** The answer once the stream ended; `simulated` when the simulator marked it. */
  response(simulated: boolean): ChatResponse {
    // Calls without a stop reason: the connection ended mid-answer, and a cut call is not the model's.
    if (this.calls.size > 0 && !this.stop) throw new ProviderError("the stream ended in the middle of a tool call (no stop_reason)", { retryable: true });
    const toolCalls = this.calls.finish();
    const { inputTokens, outputTokens, ttftMs } = this;
    return {
      text: this.text,
      usage: { inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0, ...(inputTokens === undefined ? { estimated: true } : {}) },
      latencyMs: performance.now() - this.started,
      ...(ttftMs !== undefined ? { ttftMs } : {}),
      finishReason: mapAnthropicStopReason(this.stop),
      ...(toolCalls.length ? { toolCalls } : {}),
      ...(simulated ? { simulated: true } : {}),
    };
  }
}
