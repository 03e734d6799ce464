/**
 * Minimal OpenAI-compatible stub for benchmarks: node:http, fixed latency, a fixed streamed answer
 * with usage. Deliberately does almost nothing, so the floor measured is the client's.
 *   node bench/stub.mjs PORT LATENCY_MS
 */
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 0);
const latency = Number(process.argv[3] ?? 20);
const usage = { prompt_tokens: 24, completion_tokens: 2, total_tokens: 26 };
const chunk = (delta, finish) =>
  `data: ${JSON.stringify({ id: "b", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const stream = `${chunk({ role: "assistant", content: "ship" }, null)}${chunk({ content: "ping" }, null)}${chunk({}, "stop")}data: ${JSON.stringify({ id: "b", object: "chat.completion.chunk", created: 0, model: "m", choices: [], usage })}\n\ndata: [DONE]\n\n`;
const json = JSON.stringify({
  id: "b",
  object: "chat.completion",
  created: 0,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "shipping" }, finish_reason: "stop" }],
  usage,
});

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (d) => {
    body += d;
  });
  req.on("end", () => {
    const streamed = body.includes('"stream":true');
    setTimeout(() => {
      res.writeHead(200, { "content-type": streamed ? "text/event-stream" : "application/json" });
      res.end(streamed ? stream : json);
    }, latency);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => console.log(`stub listening on http://127.0.0.1:${server.address().port}/v1`));
