/**
 * One error class per way an outbound request fails, each with a stable `code` (modelled on undici's
 * lib/core/errors.js), so that callers classify failures by type instead of matching message text.
 *
 * `sent` says whether the request's bytes may have reached the server: false only when the
 * connection was never made (DNS, refused, TLS, connect timeout). A request that was sent must not
 * be sent again to the same server without the caller's explicit decision (it may have been billed,
 * or had side effects).
 */
export type NetErrorCode =
  | "WB_NET_DNS"
  | "WB_NET_CONNECT"
  | "WB_NET_TLS"
  | "WB_NET_CONNECT_TIMEOUT"
  | "WB_NET_HEAD_TIMEOUT"
  | "WB_NET_BODY_TIMEOUT"
  | "WB_NET_CLOSED_WITHOUT_ANSWER"
  | "WB_NET_ANSWER_CUT_OFF"
  | "WB_NET_HTTP_STATUS"
  | "WB_NET_MALFORMED_BODY"
  | "WB_NET_OTHER";

export abstract class NetError extends Error {
  abstract readonly code: NetErrorCode;
  /** The request may have reached the server (false only when no connection was made). */
  abstract readonly sent: boolean;
  constructor(
    message: string,
    /** scheme://host:port of the server. */
    readonly origin: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = options?.detail ?? "";
  }
  /** The underlying system or undici code (ECONNREFUSED, UND_ERR_SOCKET…), when there was one. */
  readonly detail: string;
}

/** The host name did not resolve. */
export class DnsError extends NetError {
  readonly code = "WB_NET_DNS";
  readonly sent = false;
}
/** The connection was refused or reset before it was made. */
export class ConnectError extends NetError {
  readonly code = "WB_NET_CONNECT";
  readonly sent = false;
}
/** TLS failed: certificate not trusted, expired, for another name; or the handshake failed. */
export class TlsError extends NetError {
  readonly code = "WB_NET_TLS";
  readonly sent = false;
}
export class ConnectTimeoutError extends NetError {
  readonly code = "WB_NET_CONNECT_TIMEOUT";
  readonly sent = false;
}
/** No response head within the time allowed. */
export class HeadTimeoutError extends NetError {
  readonly code = "WB_NET_HEAD_TIMEOUT";
  readonly sent = true;
}
/** The head came, the body did not finish in time. */
export class BodyTimeoutError extends NetError {
  readonly code = "WB_NET_BODY_TIMEOUT";
  readonly sent = true;
}
/** The server (or something between) closed the connection after the request went out and before any answer. */
export class ClosedWithoutAnswerError extends NetError {
  readonly code = "WB_NET_CLOSED_WITHOUT_ANSWER";
  readonly sent = true;
}
/** The answer started and was cut off (connection closed or reset, or shorter than its Content-Length). */
export class AnswerCutOffError extends NetError {
  readonly code = "WB_NET_ANSWER_CUT_OFF";
  readonly sent = true;
}
/** A failure none of the above describes (kept apart rather than guessed at). */
export class OtherNetError extends NetError {
  readonly code = "WB_NET_OTHER";
  readonly sent = true;
}

/** A non-2xx answer, with what the server said. */
export class HttpStatusError extends NetError {
  readonly code = "WB_NET_HTTP_STATUS";
  readonly sent = true;
  constructor(
    message: string,
    origin: string,
    readonly status: number,
    /** From Retry-After (seconds or a date) or retry-after-ms. */
    readonly retryAfterMs: number | undefined,
    /** The server's own message (from a JSON error body), or the start of the body. */
    readonly serverMessage: string,
  ) {
    super(message, origin);
  }
}

/** A 2xx answer whose body is not what the protocol promises (not JSON, a bad stream chunk). */
export class MalformedBodyError extends NetError {
  readonly code = "WB_NET_MALFORMED_BODY";
  readonly sent = true;
}

export function isNetError(e: unknown): e is NetError {
  return e instanceof NetError;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$)/;

/** The code of an error or of the first cause that has one. */
function codeOf(e: unknown): string {
  for (let x = e as { code?: unknown; cause?: unknown } | undefined, i = 0; x && i < 4; x = x.cause as typeof x, i++)
    if (typeof x.code === "string" && x.code !== "UND_ERR_SOCKET" && x.code !== "UND_ERR") return x.code;
  return typeof (e as { code?: unknown })?.code === "string" ? ((e as { code: string }).code as string) : "";
}

/** An undici or socket error as the NetError for it; `answered` says whether the response head had arrived. */
export function classify(e: unknown, origin: string, answered: boolean): NetError {
  if (e instanceof NetError) return e;
  const code = codeOf(e);
  const msg = `${origin}: ${code ? `${code} ` : ""}${e instanceof Error ? e.message : String(e)}`;
  const o = { cause: e, detail: code };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return new DnsError(`cannot resolve ${msg}`, origin, o);
  if (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH") return new ConnectError(`cannot connect to ${msg}`, origin, o);
  if (TLS_CODES.test(code)) return new TlsError(`TLS failed with ${msg}`, origin, o);
  if (code === "UND_ERR_CONNECT_TIMEOUT") return new ConnectTimeoutError(`connect timed out to ${msg}`, origin, o);
  if (code === "UND_ERR_HEADERS_TIMEOUT") return new HeadTimeoutError(`no answer in time from ${msg}`, origin, o);
  if (code === "UND_ERR_BODY_TIMEOUT") return new BodyTimeoutError(`the answer did not finish in time from ${msg}`, origin, o);
  if (/Proxy response \(\d+\) !== 200/.test(msg)) return new ConnectError(`the proxy refused the tunnel: ${msg}`, origin, o);
  if (code.startsWith("HPE_") || (e as Error)?.name === "HTTPParserError")
    return new MalformedBodyError(`the answer is not valid HTTP/1.1 from ${msg}`, origin, o);
  if (code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") return new AnswerCutOffError(`answer cut off from ${msg}`, origin, o);
  if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET" || code === "UND_ERR_CLOSED" || /other side closed/.test(msg))
    return answered
      ? new AnswerCutOffError(`answer cut off from ${msg}`, origin, o)
      : new ClosedWithoutAnswerError(`closed without an answer: ${msg}`, origin, o);
  return new OtherNetError(`request failed: ${msg}`, origin, o);
}
