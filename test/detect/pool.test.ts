/**
 * The detection pool: large requests run on a worker thread with the same result as in-thread,
 * custom classes are rebuilt there from plain options, and the event loop stays free meanwhile.
 * Uses the built worker (dist/detect/detect-worker.js): `npm run build` first (npm test does).
 */
import { afterAll, describe, expect, it } from "vitest";
import { buildDetectors, createDetectPool, type DetectOptions, detectAcross } from "../../src/detect/index.js";

const ticket =
  "Customer jane.roe@example.com (+1 415 555 2671) paid with 4111.1111.1111.1111; IBAN DE89-3704-0044-0532-0130-00, SSN: 123456789, " +
  "key AKIAIOSFODNN7EXAMPLE, host 192.168.10.20, fullwidth ４１１１ １１１１ １１１１ １１１１, Project Bluebird ACME-1234.\n";

describe("detection pool", () => {
  const pool = createDetectPool({ size: 1, offThreadAt: 64 * 1024 });
  afterAll(() => pool.close());

  it("a large request on the worker gives what detectAcross gives in-thread, custom classes included", async () => {
    const big = ticket.repeat(Math.ceil(600_000 / ticket.length));
    const texts = [big, "tail 4111 1111", "1111 1111 end"];
    const options: DetectOptions = { custom: [{ name: "CODENAME", terms: ["bluebird"], patterns: ["ACME-\\d{4}"] }], defaultCountry: "US" };
    const there = await pool.detectAcross(texts, options);
    const here = detectAcross(texts, buildDetectors(options));
    expect(there).toEqual(here);
    expect(new Set(there[0]?.map((e) => e.type))).toEqual(new Set(["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "SECRET", "IP_ADDRESS", "CODENAME"]));
    expect(there[1]?.map((e) => e.rule)).toEqual(["split:luhn"]);
  });

  it("the event loop keeps turning while a worker detects", async () => {
    const big = ticket.repeat(Math.ceil(2_000_000 / ticket.length));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    await pool.detectAcross([big]);
    const took = performance.now() - t0;
    clearInterval(timer);
    // In-thread, a 2 MB detection holds the loop for its whole duration: no tick could run.
    expect(ticks).toBeGreaterThan(Math.min(5, took / 20));
  });

  it("small requests are answered in-thread; options change the result; a closed pool refuses", async () => {
    expect(await pool.detectAcross(["call 13812345678"], { defaultCountry: "CN", classes: ["PHONE"] })).toEqual([
      [{ type: "PHONE", start: 5, end: 16, rule: "phone-CN" }],
    ]);
    expect(await pool.detectAcross(["call 13812345678"], { classes: ["PHONE"] })).toEqual([[]]);
    const other = createDetectPool({ offThreadAt: 1 });
    expect(await other.detectAcross(["x 13812345678"], { defaultCountry: "CN", classes: ["PHONE"] })).toEqual([
      [{ type: "PHONE", start: 2, end: 13, rule: "phone-CN" }],
    ]);
    await other.close();
    await expect(other.detectAcross(["x"])).rejects.toThrow(/closed/);
  });

  it("the worker bundled beside the CLI (dist/bundle/detect-worker.js) answers the same jobs", async () => {
    const { Worker } = await import("node:worker_threads");
    const w = new Worker(new URL("../../dist/bundle/detect-worker.js", import.meta.url));
    try {
      const reply = new Promise((resolve) => w.once("message", resolve));
      w.postMessage({ id: 7, texts: ["call 13812345678", "mail a＠example.com"], options: { defaultCountry: "cn" } });
      expect(await reply).toEqual({
        id: 7,
        entities: [[{ type: "PHONE", start: 5, end: 16, rule: "phone-CN" }], [{ type: "EMAIL", start: 5, end: 18, rule: "email" }]],
      });
    } finally {
      await w.terminate();
    }
  });

  it("a worker that runs out of memory rejects its request, and the next request gets a fresh worker", async () => {
    const p = createDetectPool({ offThreadAt: 1, maxHeapMb: 16 });
    try {
      await expect(p.detectAcross(["mail a@example.com 4111 1111 1111 1111 ".repeat(400_000)])).rejects.toThrow(/memory limit/);
      expect(await p.detectAcross(["mail a@example.com"])).toEqual([[{ type: "EMAIL", start: 5, end: 18, rule: "email" }]]);
    } finally {
      await p.close();
    }
  });

  it("a failure inside the worker rejects that request only, and the pool goes on", async () => {
    const p = createDetectPool({ offThreadAt: 1 });
    await expect(p.detectAcross(["x"], { custom: [{ name: "BAD", patterns: ["(unclosed"] }] })).rejects.toThrow(
      /detection worker: .*Invalid regular expression/,
    );
    expect(await p.detectAcross(["mail a@example.com"])).toEqual([[{ type: "EMAIL", start: 5, end: 18, rule: "email" }]]);
    await p.close();
  });
});
