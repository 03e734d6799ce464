/** Real node-llama-cpp on a tiny random-weight GGUF generated here. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadTemplateEngine, renderChatTemplate } from "../../src/providers/local/chat-template.js";
import { createLocalProvider } from "../../src/providers/local/local-provider.js";
import { TINY_CHAT_TEMPLATE } from "../../src/providers/local/tiny-gguf.js";
import { ProviderError } from "../../src/providers/types.js";
import { UserError } from "../../src/util/errors.js";
import { makeTinyGguf } from "../support/tiny-gguf.js";

describe("local provider (node-llama-cpp)", () => {
  it("writes a small, valid GGUF", async () => {
    const file = await makeTinyGguf();
    const buf = readFileSync(file);
    expect(buf.subarray(0, 4).toString()).toBe("GGUF");
    expect(buf.readUInt32LE(4)).toBe(3);
    expect(buf.length).toBeGreaterThan(50_000);
    expect(buf.length).toBeLessThan(600_000);
  });

  it("loads the GGUF, renders its chat template, generates and counts tokens", async () => {
    const file = await makeTinyGguf();
    const p = createLocalProvider({ id: "tiny", path: file, contextSize: 1024, threads: 1 });
    try {
      const messages = [
        { role: "system" as const, content: "Classify." },
        { role: "user" as const, content: "Where is my parcel?" },
      ];
      const r = await p.chat({ messages, params: { maxTokens: 8, temperature: 0 } });
      await loadTemplateEngine();
      // The rendered template is the prompt: its token count is what we report (byte-level vocab: ≈ 1 token per byte).
      const rendered = renderChatTemplate(TINY_CHAT_TEMPLATE, messages);
      expect(r.usage.inputTokens).toBeGreaterThan(rendered.length / 2);
      expect(r.usage.inputTokens).toBeLessThanOrEqual(rendered.length + 1);
      expect(r.usage.outputTokens).toBeGreaterThan(0);
      expect(r.usage.outputTokens).toBeLessThanOrEqual(8);
      expect(typeof r.text).toBe("string");
      expect(r.ttftMs).toBeDefined();
      // Greedy decoding is deterministic.
      const again = await p.chat({ messages, params: { maxTokens: 8, temperature: 0 } });
      expect(again.text).toBe(r.text);
      expect(again.usage).toEqual(r.usage);
    } finally {
      await p.close();
    }
  });

  it("turns a prompt longer than the context into a per-request error, not a crash", async () => {
    const p = createLocalProvider({ id: "tiny", path: await makeTinyGguf(), contextSize: 256, threads: 1 });
    try {
      const e = await p.chat({ messages: [{ role: "user", content: "x".repeat(2000) }], params: { maxTokens: 8 } }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ProviderError);
      expect((e as ProviderError).retryable).toBe(false);
      expect((e as Error).message).toMatch(/exceeds the context size/);
    } finally {
      await p.close();
    }
  });

  it("reports a missing GGUF as a user error", () => {
    expect(() => createLocalProvider({ id: "x", path: "/nonexistent/model.gguf" })).toThrow(UserError);
  });
});

describe("chat templates", () => {
  it("renders with @huggingface/jinja, with a generation prompt", async () => {
    await loadTemplateEngine();
    const out = renderChatTemplate(TINY_CHAT_TEMPLATE, [{ role: "user", content: "hi" }]);
    expect(out).toBe("<|user|>\nhi<|end|>\n<|assistant|>\n");
  });
});
