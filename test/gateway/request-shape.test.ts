/**
 * The chat shape check's fast path (isPlainChat) may only say yes where the schema says yes: a seeded
 * fuzz of bodies near its edge (every plain field with values of every JSON type, Infinity from
 * 1e400, messages with odd roles, keys and contents, prototype keys) checks fast ⇒ schema, and that
 * both answers occur often enough for the check to mean something.
 */
import { describe, expect, it } from "vitest";
import { isPlainChat, schemaProblem, shapeProblem } from "../../src/gateway/request-shape.js";
import { seededRng } from "../../src/stats/rng.js";

/** Written into the JSON text as 1e400, which JSON.parse reads as Infinity. */
const HUGE = Symbol("1e400");
const VALUES: unknown[] = [0, 1, -2.5, HUGE, "x", "", true, false, null, [], ["a"], {}, { a: 1 }];
const json = (v: unknown) => (v === HUGE ? "1e400" : JSON.stringify(v));
const FIELDS = [
  "model",
  "user",
  "stream",
  "temperature",
  "top_p",
  "top_k",
  "n",
  "max_tokens",
  "max_completion_tokens",
  "seed",
  "stop",
  "tools",
  "extra",
  "__proto__",
  "logit_bias",
];
const ROLES = ["system", "developer", "user", "assistant", "tool", "function", "root", "", 1];
const MESSAGE_KEYS = ["content", "content", "name", "tool_calls", "extra", "__proto__"];
const GOOD: Record<string, unknown> = {
  model: "m",
  user: "u",
  stream: true,
  temperature: 0.2,
  top_p: 1,
  top_k: 5,
  n: 1,
  max_tokens: 64,
  max_completion_tokens: 9,
  seed: 3,
};

describe("isPlainChat", () => {
  it("says yes only where the chat schema says yes (3,000 seeded bodies)", () => {
    const r = seededRng(1414);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    let plain = 0;
    let schemaOnly = 0;
    let neither = 0;
    /** A value of the type the field takes, most of the time; anything, otherwise. */
    const valueFor = (field: string) => (r() < 0.3 ? pick(VALUES) : (GOOD[field] ?? pick(VALUES)));
    for (let n = 0; n < 3_000; n++) {
      const fields = [`"model": ${json(r() < 0.95 ? "m" : pick(VALUES))}`];
      for (let i = Math.floor(r() * 4); i > 0; i--) {
        const f = pick(FIELDS);
        fields.push(`${JSON.stringify(f)}: ${json(valueFor(f))}`);
      }
      const messages = Array.from({ length: Math.floor(r() * 3) }, () => {
        const m = [`"role": ${JSON.stringify(r() < 0.9 ? pick(ROLES.slice(0, 6)) : pick(ROLES))}`];
        for (let i = Math.floor(r() * 3); i > 0; i--) m.push(`${JSON.stringify(pick(MESSAGE_KEYS))}: ${r() < 0.8 ? '"hi"' : json(pick(VALUES))}`);
        if (r() < 0.05) m.shift();
        return `{${m.join(", ")}}`;
      });
      if (r() < 0.97) fields.push(`"messages": [${messages.join(", ")}]`);
      // Parsed from JSON text, as the gateway gets it: "__proto__" is then an own key, 1e400 is Infinity.
      const body = JSON.parse(`{${fields.join(", ")}}`);
      const schemaSays = schemaProblem("chat", body) === undefined;
      if (isPlainChat(body)) {
        plain++;
        expect(schemaSays, JSON.stringify(body)).toBe(true);
        expect(shapeProblem("chat", body)).toBeUndefined();
      } else if (schemaSays) schemaOnly++;
      else {
        neither++;
        expect(shapeProblem("chat", body)).toBe(schemaProblem("chat", body));
      }
    }
    expect(plain).toBeGreaterThan(200);
    expect(schemaOnly).toBeGreaterThan(100);
    expect(neither).toBeGreaterThan(1000);
  });

  it("takes the benchmark's request and leaves content parts, tools and unknown fields to the schema", () => {
    expect(
      isPlainChat({
        model: "support",
        messages: [
          { role: "system", content: "a" },
          { role: "user", content: "b" },
        ],
        max_tokens: 64,
      }),
    ).toBe(true);
    expect(isPlainChat({ model: "m", messages: [{ role: "user", content: [{ type: "text", text: "x" }] }] })).toBe(false);
    expect(isPlainChat({ model: "m", messages: [{ role: "user", content: "x" }], tools: [] })).toBe(false);
    expect(isPlainChat({ model: "m", messages: [{ role: "user", content: "x" }], max_tokens: Number.POSITIVE_INFINITY })).toBe(false);
    expect(isPlainChat({ model: "m", messages: [] })).toBe(false);
  });
});
