/**
 * One attempt to one upstream deployment: the body is sent once (never again to the same
 * deployment: the HTTP layer does not re-send a POST), a 2xx event stream is relayed as it arrives
 * through the caller's relay, anything else is read whole. The outcome says whether the caller may
 * fall back to another target (nothing has reached the client yet) or not.
 */
import { type PoolRegistry, parseRetryAfter, postJson } from "../net/index.js";
import type { Deployment } from "./config.js";
import type { Kind } from "./stream-relay.js";

export type Attempt =
  /** The answer was relayed as an event stream (head and events written through onStreamStart/onStreamText). */
  | { kind: "streamed" }
  /** A whole answer, any status the caller should pass on (scanned first). */
  | { kind: "answer"; status: number; text: string; contentType: string | undefined; contentEncoding: string | undefined }
  /** Failed before anything reached the client: another target may be tried. */
  | { kind: "fallback"; error: string; retryAfterMs?: number }
  /** Failed after the client got the head: the answer cannot move. */
  | { kind: "broken"; error: string };

const UPSTREAM_PATH: Record<Kind, string> = { chat: "/chat/completions", completions: "/completions", embeddings: "/embeddings" };

export interface Forwarder {
  send(o: {
    deployment: Deployment;
    kind: Kind;
    body: unknown;
    /** For streamed requests: called once before the first relayed text, then with each piece. */
    stream?: { onStart(): void; onText(text: string): void };
    /** Subscribe to the client going away (Reply.whenGone): the upstream request is then abandoned. */
    cancel?: (abort: (reason: unknown) => void) => () => void;
  }): Promise<Attempt>;
}

export function createForwarder(pools: PoolRegistry, timeoutMs: (d: Deployment) => number): Forwarder {
  /** Each deployment's endpoint URLs and headers, built once. */
  const endpoints = new WeakMap<Deployment, { urls: Record<Kind, URL>; headers: Record<string, string> }>();
  const upstreamOf = (d: Deployment) => {
    let u = endpoints.get(d);
    if (!u) {
      const base = d.baseUrl.replace(/\/+$/, "");
      const key = d.apiKeyEnv ? process.env[d.apiKeyEnv] : undefined;
      u = {
        urls: Object.fromEntries(Object.entries(UPSTREAM_PATH).map(([kind, path]) => [kind, new URL(`${base}${path}`)])) as Record<Kind, URL>,
        headers: key ? { authorization: `Bearer ${key}` } : {},
      };
      endpoints.set(d, u);
    }
    return u;
  };
  return {
    async send({ deployment, kind, body, stream, cancel }) {
      const target = upstreamOf(deployment);
      let started = false;
      try {
        const res = await postJson(target.urls[kind], body, {
          headers: target.headers,
          connections: 256,
          pools,
          timeoutMs: timeoutMs(deployment),
          timeoutUntilHeaders: true,
          ...(cancel ? { cancel } : {}),
          ...(stream
            ? {
                onStreamText: (piece: string) => {
                  if (!started) {
                    started = true;
                    stream.onStart();
                  }
                  stream.onText(piece);
                },
              }
            : {}),
        });
        if (res.streamed) {
          if (!started) stream?.onStart();
          return { kind: "streamed" };
        }
        if (res.status === 429 || res.status >= 500) {
          const wait = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers) : undefined;
          return { kind: "fallback", error: `HTTP ${res.status} from ${deployment.id}`, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
        }
        const header = (name: string) => {
          const v = res.headers[name];
          return Array.isArray(v) ? v.join(", ") : v;
        };
        return { kind: "answer", status: res.status, text: res.text, contentType: header("content-type"), contentEncoding: header("content-encoding") };
      } catch (e) {
        const error = `${deployment.id}: ${(e as Error).message}`;
        return started ? { kind: "broken", error } : { kind: "fallback", error };
      }
    },
  };
}
