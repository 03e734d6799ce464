/** How the gateway answers: OpenAI-style JSON errors, JSON bodies and event-stream heads. */

/** What the gateway needs of a server response (node:http's ServerResponse has it). */
export interface Reply {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  write(data: string): unknown;
  end(data?: string): unknown;
  readonly headersSent: boolean;
  destroy(): unknown;
  /** Aborted when the client goes away before the answer is complete (the upstream request is then abandoned). */
  readonly gone?: AbortSignal;
  /** Whether the client went away (the net layer's Reply has it; a plain ServerResponse does not). */
  readonly isGone?: boolean;
  /** Subscribe to the client going away: the cheap form of `gone` (see net/server.ts). */
  whenGone?(f: (reason: Error) => void): () => void;
}

export const JSON_TYPE = "application/json; charset=utf-8";
export const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

export function send(res: Reply, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

export const sendJson = (res: Reply, status: number, body: string, headers: Record<string, string> = {}) => send(res, status, JSON_TYPE, body, headers);

/** `{"error": {message, type, code, param}}` as OpenAI's API answers errors. */
export function openAiError(
  res: Reply,
  status: number,
  message: string,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  const type = status === 401 ? "authentication_error" : status >= 500 ? "server_error" : "invalid_request_error";
  sendJson(res, status, JSON.stringify({ error: { message, type, code, param: null, ...extra } }), headers);
}

/** Retry-After in whole seconds, at least 1. */
export const retryAfterHeader = (ms: number) => ({ "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) });
