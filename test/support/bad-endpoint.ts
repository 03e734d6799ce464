/**
 * A misbehaving OpenAI-compatible endpoint on 127.0.0.1 (real HTTP): answers every request with one
 * fixed status, content type and body (a 401, an HTML login page with 200, a 200 with JSON that is
 * not a chat completion…) and counts the requests it saw, so tests can prove what was retried.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface BadEndpoint {
  baseUrl: string;
  requests: () => number;
  close(): Promise<void>;
}

export async function startBadEndpoint(status: number, contentType: string, body: string): Promise<BadEndpoint> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      n++;
      res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
