/**
 * An OpenAI-compatible upstream on 127.0.0.1 that records the exact body of every request it
 * receives, for tests that check what a gateway let through. It answers with what the test sets:
 * by default a chat/completions/embeddings answer that quotes nothing of the request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  body: string;
  headers: IncomingMessage["headers"];
}

export type Answer = (req: Received, res: ServerResponse) => void;

export const defaultAnswer: Answer = (req, res) => {
  const body = req.path.endsWith("/embeddings")
    ? { object: "list", data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }], usage: { prompt_tokens: 3, completion_tokens: 0 } }
    : req.path.endsWith("/completions") && !req.path.endsWith("/chat/completions")
      ? { id: "c1", object: "text_completion", choices: [{ index: 0, text: "ok", finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 1 } }
      : {
          id: "c1",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: 1 },
        };
  const text = JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};

export async function startRecordingUpstream(answer: Answer = defaultAnswer) {
  const received: Received[] = [];
  const state = { answer };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8"), headers: req.headers };
      received.push(r);
      state.answer(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received,
    /** Everything any request carried, as one string. */
    all: () => received.map((r) => r.body).join("\n"),
    setAnswer(a: Answer) {
      state.answer = a;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
