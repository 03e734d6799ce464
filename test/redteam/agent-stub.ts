/**
 * A stub OpenAI-compatible server on 127.0.0.1 whose answer is a function of the request (model
 * name, messages, tools): lets red-team tests play agents that obey injected instructions, refuse
 * them, write calls as text, or comply after k turns. Answers stream (SSE), with tool calls as
 * index-keyed fragments like a real server; every request body is kept for the test to inspect.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface WireMsg {
  role: string;
  content: string | null;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}
export interface StubRequest {
  model: string;
  messages: WireMsg[];
  tools?: { function: { name: string } }[];
}
export type StubAnswer = { text: string } | { calls: { name: string; arguments: Record<string, unknown> }[] };

export interface AgentStub {
  baseUrl: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

function sseBody(a: StubAnswer, n: number): string {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  if ("text" in a) return `${chunk({ content: a.text })}${chunk({}, "stop")}data: [DONE]\n\n`;
  const parts = a.calls.flatMap((c, i) => {
    const args = JSON.stringify(c.arguments);
    const half = Math.floor(args.length / 2);
    return [
      chunk({ tool_calls: [{ index: i, id: `call_${n}_${i}`, type: "function", function: { name: c.name, arguments: args.slice(0, half) } }] }),
      chunk({ tool_calls: [{ index: i, function: { arguments: args.slice(half) } }] }),
    ];
  });
  return `${parts.join("")}${chunk({}, "tool_calls")}data: [DONE]\n\n`;
}

export async function startAgentStub(answer: (req: StubRequest) => StubAnswer): Promise<AgentStub> {
  const requests: StubRequest[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const r = JSON.parse(body) as StubRequest;
      requests.push(r);
      let a: StubAnswer;
      try {
        a = answer(r);
      } catch (e) {
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: String(e) } }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" }).end(sseBody(a, requests.length));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export const lastOf = (r: StubRequest): WireMsg | undefined => r.messages[r.messages.length - 1];
export const userTurns = (r: StubRequest): number => r.messages.filter((m) => m.role === "user").length;
