#!/usr/bin/env node
/**
 * The reference for the gateway's CPU per request (issue 14): a minimal detecting proxy on the same
 * safe stack — node:http in, undici out — with nothing else (no keys, limits, audit, metrics, answer
 * scanning). Parse the JSON body, run `detect` on the message texts, forward to the upstream with an
 * undici Pool, pass the answer back. What the gateway spends beyond this is its own logic.
 *
 *   node bench/reference-proxy.mjs PORT UPSTREAM_BASE_URL
 */
import { createServer } from "node:http";
import { Pool } from "undici";

// The detectors: where the detection part lives after issue 14 (src/detect), else where it was.
const detectMod = await import("../dist/detect/index.js").catch(() => import("../dist/gateway/detect/redact.js"));
const { detect } = detectMod;

const port = Number(process.argv[2] ?? 0);
const upstream = new URL(process.argv[3] ?? "http://127.0.0.1:8000/v1");
const pool = new Pool(upstream.origin, { connections: 256, pipelining: 1 });
const path = `${upstream.pathname.replace(/\/+$/, "")}/chat/completions`;

const textOf = (c) => (typeof c === "string" ? c : Array.isArray(c) ? c.map((p) => (typeof p?.text === "string" ? p.text : "")).join("\n") : "");

const server = createServer({ maxHeaderSize: 16 * 1024, requireHostHeader: true }, (req, res) => {
  const parts = [];
  req.on("data", (d) => parts.push(d));
  req.on("end", async () => {
    try {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8"));
      let found = 0;
      for (const m of body.messages ?? []) found += detect(textOf(m.content)).length;
      const r = await pool.request({
        path,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, model: found ? "internal" : "external" }),
      });
      const text = await r.body.text();
      res.writeHead(r.statusCode, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    } catch (e) {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(e) } }));
    }
  });
});
server.keepAliveTimeout = 72_000;
server.listen(port, "127.0.0.1", () => console.log(`reference proxy listening on http://127.0.0.1:${server.address().port}`));
