/**
 * An agent-playing OpenAI-compatible upstream on 127.0.0.1 for the conversation tests: it logs every
 * request it receives (the recording upstream) and answers like a model using tools — a call to
 * get_order_status for the order number in the first user message, then (after the tool result) a
 * text answer quoting that result (two-step: get_customer first, then the answer). Modes make it answer the hostile ways real servers do: calls
 * streamed as deltas, parallel calls, calls written as text, arguments that are not JSON.
 */
import type { ServerResponse } from "node:http";
import { type Received, startRecordingUpstream } from "./recording-upstream.js";

export type AgentMode = "calls" | "two-step" | "parallel" | "text-call" | "bad-json";

export interface WireMessage {
  role: string;
  content: string | null;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ChatBody {
  messages: WireMessage[];
  stream?: boolean;
  tools?: { function: { name: string } }[];
}

type Call = { id: string; name: string; arguments: string };

/** The answer a tool-using model gives at this point of the conversation. */
export function agentReply(body: ChatBody, mode: AgentMode): { text: string; calls: Call[] } {
  const msgs = body.messages;
  const last = msgs[msgs.length - 1];
  const order = /\d+/.exec(msgs.find((m) => m.role === "user")?.content ?? "")?.[0] ?? "0";
  const results = msgs.filter((m) => m.role === "tool").length;
  // two-step: the customer is looked up after the order, then the answer comes (three requests a case).
  if (last?.role === "tool" && mode === "two-step" && results === 1)
    return { text: "", calls: [{ id: "c1a", name: "get_customer", arguments: JSON.stringify({ order_id: order }) }] };
  if (last?.role === "tool")
    return {
      text: `Order ${order}: ${msgs
        .filter((m) => m.role === "tool")
        .map((m) => m.content)
        .join(" ")}`,
      calls: [],
    };
  if (!body.tools?.length) return { text: `reply ${msgs.filter((m) => m.role === "assistant").length + 1}`, calls: [] };
  const args = JSON.stringify({ order_id: order });
  const turn = msgs.filter((m) => m.role === "assistant").length;
  switch (mode) {
    case "text-call":
      return { text: `<tool_call>\n{"name": "get_order_status", "arguments": ${args}}\n</tool_call>`, calls: [] };
    case "bad-json":
      return { text: "", calls: [{ id: `c${turn}a`, name: "get_order_status", arguments: args.slice(0, -1) }] };
    case "parallel":
      return {
        text: "",
        calls: [
          { id: `c${turn}a`, name: "get_order_status", arguments: args },
          { id: `c${turn}b`, name: "get_customer", arguments: JSON.stringify({ order_id: order }) },
        ],
      };
    default:
      return { text: "", calls: [{ id: `c${turn}a`, name: "get_order_status", arguments: args }] };
  }
}

const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

function send(res: ServerResponse, body: ChatBody, reply: { text: string; calls: Call[] }): void {
  const toolCalls = reply.calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  const finish = reply.calls.length ? "tool_calls" : "stop";
  if (!body.stream) {
    const message = { role: "assistant", content: reply.calls.length ? null : reply.text, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
    const text = JSON.stringify({ id: "x", object: "chat.completion", choices: [{ index: 0, message, finish_reason: finish }], usage: USAGE });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(text);
    return;
  }
  const chunk = (delta: object, f: string | null = null) =>
    `data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: f }] })}\n\n`;
  const out: string[] = [];
  if (reply.text) for (const piece of reply.text.match(/.{1,5}/gs) ?? []) out.push(chunk({ content: piece }));
  reply.calls.forEach((c, index) => {
    out.push(chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }));
    for (const piece of c.arguments.match(/.{1,3}/gs) ?? []) out.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  out.push(chunk({}, finish), `data: ${JSON.stringify({ id: "x", choices: [], usage: USAGE })}\n\n`, "data: [DONE]\n\n");
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.end(out.join(""));
}

/** `latencyMs` delays every answer (the kill-and-resume test needs requests in flight). */
export async function startAgentUpstream(opts: { mode?: AgentMode; stream?: boolean; latencyMs?: number } = {}) {
  const up = await startRecordingUpstream((req: Received, res) => {
    const body = JSON.parse(req.body) as ChatBody;
    const reply = agentReply(body, opts.mode ?? "calls");
    const go = () => send(res, { ...body, stream: opts.stream ?? body.stream ?? false }, reply);
    if (opts.latencyMs) setTimeout(go, opts.latencyMs);
    else go();
  });
  return { ...up, bodies: () => up.received.map((r) => JSON.parse(r.body) as ChatBody) };
}
