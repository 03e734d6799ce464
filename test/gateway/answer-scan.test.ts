/**
 * scanWholeAnswer takes a quick walk for answers that hold nothing and the slot-by-slot path for the
 * rest: both must give what the slot path alone would (the answer re-serialised, entities counted
 * wherever they sit, echoed values not counted, deep answers withheld at the same depth).
 */
import { describe, expect, it } from "vitest";
import { buildDetectors } from "../../src/detect/index.js";
import { scanWholeAnswer } from "../../src/gateway/answer-scan.js";
import { sentValues } from "../../src/gateway/response-scan.js";

const detectors = buildDetectors();
const opts = (sent: Set<string> = new Set()) => ({ detectors, window: 64, redact: false, sent });
const json = { contentType: "application/json" };
const answer = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: "b", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], ...extra });

/** An answer whose innermost array sits `depth` containers deep. */
const nested = (depth: number) => `{"choices":${"[".repeat(depth - 1)}"x"${"]".repeat(depth - 1)}}`;

describe("whole answers: the quick walk and the slot path agree", () => {
  it("an answer with nothing in it comes back re-serialised, with no counts and its usage", async () => {
    const text = `{"id":"b","id":"c","usage":{"prompt_tokens":3,"completion_tokens":1},"choices":[{"message":{"content":"shipping"}}]}`;
    const r = await scanWholeAnswer(text, json, opts());
    expect(r).toEqual({ scanned: true, text: JSON.stringify(JSON.parse(text)), counts: {}, usage: { prompt_tokens: 3, completion_tokens: 1 } });
    // The first of two duplicate keys, which JSON.parse drops unscanned, is not passed on.
    expect(r.scanned && r.text).not.toContain('"b"');
  });

  it("counts a value in a string, in an object key and in a tool call's arguments", async () => {
    for (const [text, cls] of [
      [answer("write to leak@example.com"), "EMAIL"],
      [answer("ok", { meta: { "123-45-6789": true } }), "US_SSN"],
      [answer("", { tool: { arguments: '{"card":"4111 1111 1111 1111"}' } }), "CREDIT_CARD"],
    ] as const) {
      const r = await scanWholeAnswer(text, json, opts());
      expect(r.scanned && r.counts[cls]).toBe(1);
    }
  });

  it("does not count a value the request sent (echoed), and leaves the answer as it was", async () => {
    const text = answer("we will write to leak@example.com");
    const sent = sentValues(["leak@example.com"], [[{ type: "EMAIL", start: 0, end: 16, rule: "email" }]]);
    const r = await scanWholeAnswer(text, json, opts(sent));
    expect(r).toMatchObject({ scanned: true, text: JSON.stringify(JSON.parse(text)), counts: {} });
  });

  it("withholds an answer nested deeper than 256 levels, and scans one just inside the bound", async () => {
    expect(await scanWholeAnswer(nested(256), json, opts())).toMatchObject({ scanned: true, counts: {} });
    expect(await scanWholeAnswer(nested(257), json, opts())).toEqual({ scanned: false, reason: "the answer is nested deeper than 256 levels" });
  });
});
