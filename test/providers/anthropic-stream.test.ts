/**
 * The Anthropic event rules alone (anthropic-stream.ts), without a connection: text and usage from
 * the events, the stop reason mapped, tool_use blocks assembled, and the hostile cases — a
 * malformed event, an error event, a stream cut inside a tool call — each a ProviderError with the
 * right retry decision. (anthropic-tools.test.ts covers the same over real HTTP.)
 */
import { describe, expect, it } from "vitest";
import { AnthropicStream } from "../../src/providers/anthropic-stream.js";
import { ProviderError } from "../../src/providers/types.js";

const ev = (data: unknown, event?: string) => ({ ...(event ? { event } : {}), data: JSON.stringify(data) });

describe("AnthropicStream", () => {
  it("reads text, usage and the stop reason, and reports each text chunk", () => {
    const chunks: string[] = [];
    const s = new AnthropicStream(performance.now(), (t) => chunks.push(t));
    s.onEvent(ev({ type: "message_start", message: { usage: { input_tokens: 12, output_tokens: 1 } } }));
    s.onEvent(ev({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } }));
    // The event name may come from the SSE `event:` line alone.
    s.onEvent(ev({ index: 0, delta: { type: "text_delta", text: "lo" } }, "content_block_delta"));
    s.onEvent(ev({ type: "message_delta", delta: { stop_reason: "max_tokens" }, usage: { output_tokens: 7 } }));
    const r = s.response(false);
    expect(r.text).toBe("Hello");
    expect(chunks).toEqual(["Hel", "lo"]);
    expect(r.usage).toEqual({ inputTokens: 12, outputTokens: 7 });
    expect(r.finishReason).toBe("length");
    expect(r.ttftMs).toBeGreaterThanOrEqual(0);
    expect(r.simulated).toBeUndefined();
    expect(new AnthropicStream(performance.now()).response(true).simulated).toBe(true);
  });

  it("marks usage as estimated when the stream never said it", () => {
    const s = new AnthropicStream(performance.now());
    s.onEvent(ev({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "x" } }));
    expect(s.response(false).usage).toEqual({ inputTokens: 0, outputTokens: 0, estimated: true });
  });

  it("assembles a tool_use block from its input_json_delta fragments", () => {
    const s = new AnthropicStream(performance.now());
    s.onEvent(ev({ type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "lookup", input: {} } }));
    s.onEvent(ev({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"q":' } }));
    s.onEvent(ev({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '"x"}' } }));
    s.onEvent(ev({ type: "message_delta", delta: { stop_reason: "tool_use" } }));
    const r = s.response(false);
    expect(r.finishReason).toBe("tool-calls");
    expect(r.toolCalls).toEqual([{ id: "toolu_1", name: "lookup", arguments: '{"q":"x"}' }]);
  });

  it("refuses a malformed event (retryable), an error event (retryable only when transient) and a cut tool call", () => {
    const s = new AnthropicStream(performance.now());
    const thrown = (f: () => void): ProviderError => {
      try {
        f();
      } catch (e) {
        if (e instanceof ProviderError) return e;
        throw e;
      }
      throw new Error("no error");
    };
    const bad = thrown(() => s.onEvent({ data: "{not json" }));
    expect(bad.retryable).toBe(true);
    expect(bad.message).toMatch(/malformed stream event/);
    const overloaded = thrown(() => s.onEvent(ev({ type: "error", error: { type: "overloaded_error", message: "busy" } })));
    expect(overloaded.retryable).toBe(true);
    const invalid = thrown(() => s.onEvent(ev({ type: "error", error: { type: "invalid_request_error", message: "no" } })));
    expect(invalid.retryable).toBe(false);
    expect(invalid.message).toBe("stream error: invalid_request_error no");

    const cut = new AnthropicStream(performance.now());
    cut.onEvent(ev({ type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t", name: "f", input: {} } }));
    cut.onEvent(ev({ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"a":1' } }));
    const e = thrown(() => cut.response(false));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/middle of a tool call/);
  });
});
