/**
 * The gateway's HTTP/1.1 server, on bare sockets. node:http cost a minimal detecting proxy here
 * ~0.06 ms of CPU a request (IncomingMessage and ServerResponse streams, events, header objects):
 * a third of its work, and the gateway's latency budget at 1,000 req/s on 2 cores is ~0.2 ms.
 *
 * It does what the gateway needs and refuses the rest: requests are read whole (up to `bodyLimit`),
 * framed by Content-Length or chunked Transfer-Encoding (both at once, another coding, or a bad or
 * repeated-but-different Content-Length is a 400 and the connection closes: no request smuggling);
 * heads over 64 KiB get 431; obsolete line folding and malformed lines get 400. Keep-alive per
 * HTTP/1.0 and 1.1, pipelined requests answered in order, `Expect: 100-continue` honoured. Answers go
 * out in one write (head and body), or chunked when streamed. Idle connections close after
 * `keepAliveMs`; a request must arrive whole within `requestTimeoutMs` (408 otherwise, also for a
 * client that keeps dribbling bytes).
 */
import net from "node:net";
import { parseChunkSize, parseContentLength } from "../providers/http1.js";

export interface Request {
  method: string;
  /** The request target as sent (path and query). */
  url: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** The body was over the limit: `body` is empty, and the connection closes after the answer. */
  tooLarge: boolean;
}

export interface ServerOptions {
  bodyLimit: number;
  keepAliveMs?: number;
  requestTimeoutMs?: number;
  onRequest(req: Request, reply: Reply): void;
}

const MAX_HEAD = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** A control character other than tab (header values may hold tabs and obs-text, nothing else below 0x20). */
function hasControl(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || c === 0x7f) return true;
  }
  return false;
}

let dateSecond = -1;
let dateText = "";
/** The Date header, formatted once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** One answer. `writeHead`, then `end(body)`, or `write` pieces (sent chunked) and `end()`. */
export class Reply {
  headersSent = false;
  finished = false;
  private head = "";
  private chunked = false;

  constructor(
    private readonly conn: Connection,
    private readonly isHead: boolean,
    readonly keepAlive: boolean,
  ) {}

  writeHead(status: number, headers: Record<string, string | number> = {}): void {
    if (this.headersSent) throw new Error("headers already sent");
    let h = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\ndate: ${httpDate()}\r\n`;
    let length = false;
    for (const name in headers) {
      const v = String(headers[name]);
      if (/[\r\n]/.test(name) || /[\r\n]/.test(v)) throw new Error(`header ${JSON.stringify(name)} holds a line break`);
      if (name === "content-length") length = true;
      if (name === "connection") continue; // this server decides
      h += `${name}: ${v}\r\n`;
    }
    this.chunked = !length && status !== 204 && status !== 304 && !this.isHead;
    if (this.chunked) h += "transfer-encoding: chunked\r\n";
    h += this.keepAlive ? "connection: keep-alive\r\n\r\n" : "connection: close\r\n\r\n";
    this.head = h;
    this.headersSent = true;
  }

  /** A piece of a streamed answer (sent at once, as a chunk). */
  write(data: string): void {
    if (!this.headersSent) this.writeHead(200);
    if (this.finished || data === "" || this.isHead) {
      this.flushHead();
      return;
    }
    const out = this.chunked ? `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n` : data;
    this.conn.send(this.head + out);
    this.head = "";
  }

  end(data?: string): void {
    if (this.finished) return;
    if (!this.headersSent) this.writeHead(200, data === undefined ? {} : { "content-length": Buffer.byteLength(data) });
    this.finished = true;
    let out = this.head;
    this.head = "";
    if (data !== undefined && data !== "" && !this.isHead) out += this.chunked ? `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n` : data;
    if (this.chunked) out += "0\r\n\r\n";
    if (out !== "") this.conn.send(out);
    this.conn.answered(this);
  }

  /** Drop the connection (an answer that cannot be finished). */
  destroy(): void {
    this.finished = true;
    this.conn.socket.destroy();
  }

  private flushHead(): void {
    if (this.head === "") return;
    this.conn.send(this.head);
    this.head = "";
  }
}

/** A malformed request: answered with `status`, and the connection closes. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type BodyState =
  | { kind: "length"; left: number }
  | { kind: "chunked"; step: "size" | "data" | "crlf" | "trailers"; left: number }
  | { kind: "discard"; left: number };

class Connection {
  private buf: Buffer | undefined;
  /** The request being read, once its head is in. */
  private req: Request | undefined;
  private body: BodyState | undefined;
  private parts: Buffer[] = [];
  private size = 0;
  private keepAlive = true;
  private isHead = false;
  /** An answer is being produced: further bytes wait (pipelining). */
  busy = false;
  closed = false;
  /** When the first bytes of the request being read arrived (0: none being read). */
  private readingSince = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly o: ServerOptions,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(o.requestTimeoutMs ?? 60_000);
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("timeout", () => {
      if (this.busy) return; // the answer is on its way; the upstream's own timeout bounds it
      if (this.req || this.buf) this.refuse(new Refusal(408, "the request did not arrive in time"));
      else socket.destroy();
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.closed = true;
    });
  }

  send(data: string): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(data);
  }

  /** The current answer is complete: next request, or close. */
  answered(reply: Reply): void {
    this.busy = false;
    if (!reply.keepAlive) {
      this.socket.end();
      return;
    }
    this.socket.setTimeout(this.o.keepAliveMs ?? 72_000);
    // A pipelined request waiting (in this.buf): read it on the next turn, not inside the caller's end().
    if (this.buf && this.buf.length > 0) setImmediate(() => this.onData(Buffer.alloc(0)));
  }

  private onData(chunk: Buffer): void {
    if (this.busy) {
      // Pipelined: held until the answer before it is out (bounded like a head).
      this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
      if (this.buf.length > MAX_HEAD + this.o.bodyLimit) this.socket.destroy();
      return;
    }
    try {
      this.parse(chunk);
    } catch (e) {
      if (e instanceof Refusal) this.refuse(e);
      else throw e;
    }
    if (!this.busy) this.readingSince = this.req || this.buf ? this.readingSince || Date.now() : 0;
  }

  /** A request still arriving after `limitMs` (a client dribbling bytes to hold the connection): 408. */
  checkDeadline(now: number, limitMs: number): void {
    if (!this.busy && this.readingSince > 0 && now - this.readingSince > limitMs) this.refuse(new Refusal(408, "the request did not arrive in time"));
  }

  private parse(chunk: Buffer): void {
    const b = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = undefined;
    let i = 0;
    while (i < b.length && !this.busy) {
      if (!this.req) {
        const end = b.indexOf(HEAD_END, i);
        if (end < 0) {
          if (b.length - i > MAX_HEAD) throw new Refusal(431, `the request head is over ${MAX_HEAD / 1024} KiB`);
          this.buf = b.subarray(i);
          return;
        }
        if (end - i > MAX_HEAD) throw new Refusal(431, `the request head is over ${MAX_HEAD / 1024} KiB`);
        this.startRequest(b.toString("latin1", i, end));
        i = end + 4;
        if (!this.body) {
          this.dispatch();
          continue;
        }
      }
      i = this.readBody(b, i);
      if (i < 0) return; // waiting for more bytes (this.buf holds a partial line)
    }
    if (i < b.length) this.buf = b.subarray(i);
  }

  private startRequest(head: string): void {
    const eol = head.indexOf("\r\n");
    const line = eol < 0 ? head : head.slice(0, eol);
    const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.([01])$/.exec(line);
    if (!m) {
      if (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e\x80-\xff]+ HTTP\/\d/.test(line)) throw new Refusal(505, "only HTTP/1.0 and HTTP/1.1 are served");
      throw new Refusal(400, "not an HTTP/1.x request line");
    }
    const headers: Record<string, string | undefined> = {};
    if (eol >= 0)
      for (let at = eol + 2; at <= head.length; ) {
        let end = head.indexOf("\r\n", at);
        if (end < 0) end = head.length;
        const c0 = head.charCodeAt(at);
        if (c0 === 32 || c0 === 9) throw new Refusal(400, "obsolete header line folding");
        const colon = head.indexOf(":", at);
        if (colon <= at || colon > end) throw new Refusal(400, "a header line without a name and a colon");
        const name = head.slice(at, colon).toLowerCase();
        if (!TOKEN.test(name)) throw new Refusal(400, `bad header name ${JSON.stringify(name.slice(0, 40))}`);
        const value = head.slice(colon + 1, end).trim();
        if (hasControl(value)) throw new Refusal(400, "a header value with a control character");
        const prev = headers[name];
        headers[name] = prev === undefined ? value : `${prev}, ${value}`;
        at = end + 2;
      }
    const minor = m[3] === "1" ? 1 : 0;
    const connection = (headers.connection ?? "").toLowerCase();
    this.keepAlive = minor === 1 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    this.isHead = m[1] === "HEAD";
    this.req = { method: m[1] as string, url: m[2] as string, headers, body: Buffer.alloc(0), tooLarge: false };
    this.parts = [];
    this.size = 0;
    const te = headers["transfer-encoding"];
    const cl = headers["content-length"];
    if (te !== undefined) {
      if (cl !== undefined) throw new Refusal(400, "both Transfer-Encoding and Content-Length");
      if (te.toLowerCase() !== "chunked") throw new Refusal(501, `transfer coding ${JSON.stringify(te.slice(0, 40))} is not supported`);
      if (minor === 0) throw new Refusal(400, "chunked Transfer-Encoding in an HTTP/1.0 request");
      this.body = { kind: "chunked", step: "size", left: 0 };
    } else if (cl !== undefined) {
      const n = parseContentLength(cl);
      if (n === undefined) throw new Refusal(400, `bad Content-Length ${JSON.stringify(cl.slice(0, 40))}`);
      if (n > this.o.bodyLimit) {
        // Read past and dropped, then answered (a client still sending would otherwise see a reset).
        this.req.tooLarge = true;
        this.keepAlive = false;
        this.body = { kind: "discard", left: n };
      } else this.body = n > 0 ? { kind: "length", left: n } : undefined;
    } else this.body = undefined;
    if (this.body && (headers.expect ?? "").toLowerCase() === "100-continue") this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
  }

  /** Read body bytes from b at i; the new index, or -1 when a partial chunk line waits in this.buf. */
  private readBody(b: Buffer, i: number): number {
    const body = this.body as BodyState;
    while (i < b.length) {
      if (body.kind === "length" || body.kind === "discard" || (body.kind === "chunked" && body.step === "data")) {
        const n = Math.min(body.left, b.length - i);
        if (body.kind !== "discard") this.take(b.subarray(i, i + n));
        i += n;
        body.left -= n;
        if (body.left > 0) return i;
        if (body.kind === "chunked") {
          body.step = "crlf";
          continue;
        }
        this.dispatch();
        return i;
      }
      // chunked: size line, CRLF after data, trailers
      const eol = b.indexOf(CRLF, i);
      if (eol < 0) {
        if (b.length - i > 8192) throw new Refusal(400, "a chunk line over 8 KiB");
        this.buf = b.subarray(i);
        return -1;
      }
      const line = b.toString("latin1", i, eol);
      i = eol + 2;
      if (body.step === "crlf") {
        if (line !== "") throw new Refusal(400, "chunk data not followed by CRLF");
        body.step = "size";
      } else if (body.step === "trailers") {
        if (line === "") {
          this.dispatch();
          return i;
        }
      } else {
        const size = parseChunkSize(line);
        if (size === undefined) throw new Refusal(400, "bad chunk size");
        body.left = size;
        body.step = body.left === 0 ? "trailers" : "data";
      }
    }
    return i;
  }

  private take(part: Buffer): void {
    if (!this.req || part.length === 0) return;
    this.size += part.length;
    if (this.size > this.o.bodyLimit) {
      // Chunked and over the limit: answered once the body has gone by, then the connection closes.
      this.req.tooLarge = true;
      this.keepAlive = false;
      this.parts = [];
      return;
    }
    if (!this.req.tooLarge) this.parts.push(part);
  }

  private dispatch(): void {
    const req = this.req as Request;
    this.req = undefined;
    this.body = undefined;
    this.readingSince = 0;
    if (!req.tooLarge) req.body = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.parts = [];
    this.busy = true;
    const reply = new Reply(this, this.isHead, this.keepAlive);
    try {
      this.o.onRequest(req, reply);
    } catch (e) {
      // A handler that throws must not take the process down: a 500 if nothing was sent, else the connection goes.
      if (reply.headersSent) reply.destroy();
      else this.answerError(500, `internal error: ${(e as Error).message}`, "server_error", "internal_error", this.isHead);
    }
  }

  /** An OpenAI-style JSON error, then the connection closes. */
  private answerError(status: number, message: string, type: string, code: string, isHead: boolean): void {
    const body = JSON.stringify({ error: { message, type, code, param: null } });
    const reply = new Reply(this, isHead, false);
    reply.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    reply.end(body);
  }

  private refuse(r: Refusal): void {
    this.buf = undefined;
    this.req = undefined;
    this.body = undefined;
    this.readingSince = 0;
    this.busy = true;
    this.answerError(r.status, r.message, "invalid_request_error", "bad_http_request", false);
  }
}

export interface LeanServer {
  server: net.Server;
  close(): Promise<void>;
}

export function createLeanServer(o: ServerOptions): LeanServer {
  const conns = new Set<Connection>();
  const server = net.createServer((socket) => {
    const c = new Connection(socket, o);
    conns.add(c);
    socket.once("close", () => conns.delete(c));
  });
  // Whole-request deadline (the socket's own timeout only measures silence).
  const limit = o.requestTimeoutMs ?? 60_000;
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const c of conns) c.checkDeadline(now, limit);
    },
    Math.min(1000, Math.max(10, limit / 4)),
  );
  sweep.unref();
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        server.close(() => resolve());
        // Idle keep-alive connections go now; those with an answer in progress finish it first.
        for (const c of conns) if (!c.busy) c.socket.end();
      }),
  };
}
