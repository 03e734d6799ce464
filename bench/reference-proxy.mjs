#!/usr/bin/env node
/**
 * The reference for the gateway's CPU per request (issue 14): a minimal detecting proxy on the same
 * safe stack — node:http in, undici out — with nothing else (no API keys, limits, audit, metrics,
 * shape checks, split-value joins or streaming hold-back). Parse the JSON body, run the same
 * `detect` as the gateway, forward to the upstream with an undici Pool (to the deployment that may
 * see what was found), pass the answer back. What the gateway spends beyond this is its own logic.
 *
 * Two modes, both measured by bench/gateway-latency.mjs:
 *   every   (default) `detect` on every string of the request (values and object keys, wherever
 *           they sit) and of the JSON answer: the work a safe stack cannot skip, since data can sit
 *           in any field of either (issue 14's "inspect every byte").
 *   texts   `detect` on the message texts of the request only (the reference before 2026-12-02):
 *           kept as a second row, since it does less than a safe proxy must.
 *
 *   node bench/reference-proxy.mjs PORT UPSTREAM_BASE_URL [every|texts]
 */
import { createServer } from "node:http";
import { Pool } from "undici";

// The detectors: where the detection part lives after issue 14 (src/detect), else where it was.
const detectMod = await import("../dist/detect/index.js").catch(() => import("../dist/gateway/detect/redact.js"));
const { detect } = detectMod;

const port = Number(process.argv[2] ?? 0);
const upstream = new URL(process.argv[3] ?? "http://127.0.0.1:8000/v1");
const mode = process.argv[4] ?? "every";
if (mode !== "every" && mode !== "texts") throw new Error(`mode: every or texts, not ${mode}`);
const pool = new Pool(upstream.origin, { connections: 256, pipelining: 1 });
const path = `${upstream.pathname.replace(/\/+$/, "")}/chat/completions`;

const textOf = (c) => (typeof c === "string" ? c : Array.isArray(c) ? c.map((p) => (typeof p?.text === "string" ? p.text : "")).join("\n") : "");

/** Entities found in every string (and object key) of a parsed JSON value. */
function detectEvery(v) {
  if (typeof v === "string") return detect(v).length;
  if (v === null || typeof v !== "object") return 0;
  let n = 0;
  if (Array.isArray(v)) for (const x of v) n += detectEvery(x);
  else for (const k in v) n += detect(k).length + detectEvery(v[k]);
  return n;
}

const server = createServer({ maxHeaderSize: 16 * 1024, requireHostHeader: true }, (req, res) => {
  const parts = [];
  req.on("data", (d) => parts.push(d));
  req.on("end", async () => {
    try {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8"));
      let found = 0;
      if (mode === "every") found = detectEvery(body);
      else for (const m of body.messages ?? []) found += detect(textOf(m.content)).length;
      const r = await pool.request({
        path,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, model: found ? "internal" : "external" }),
      });
      const text = await r.body.text();
      if (mode === "every") {
        let answer;
        try {
          answer = JSON.parse(text);
        } catch {
          answer = text;
        }
        detectEvery(answer);
      }
      res.writeHead(r.statusCode, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    } catch (e) {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(e) } }));
    }
  });
});
server.keepAliveTimeout = 72_000;
server.listen(port, "127.0.0.1", () => console.log(`reference proxy (${mode}) listening on http://127.0.0.1:${server.address().port}`));
