/**
 * A forward HTTP proxy for tests: absolute-form http requests and CONNECT tunnels, each sent where
 * `route` says (default: the named host, `localhost` as 127.0.0.1). Records what it was asked and
 * the Proxy-Authorization it got; with `refuse`, answers every CONNECT with 407.
 */
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/** Bytes both ways between two sockets; an error on either ends both. */
export function relay(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
}

export interface ProxySeen {
  /** `METHOD absolute-URL` of each relayed http request. */
  forwarded: string[];
  /** `host:port` of each CONNECT. */
  connects: string[];
  auth: (string | undefined)[];
}

type Route = (host: string, port: number) => { host: string; port: number } | undefined;
const sameHost: Route = (host, port) => ({ host: host === "localhost" ? "127.0.0.1" : host, port });

export async function startForwardProxy(opts: { route?: Route; refuse?: boolean } = {}) {
  const route = opts.route ?? sameHost;
  const seen: ProxySeen = { forwarded: [], connects: [], auth: [] };
  const server = createServer((req, res) => {
    seen.forwarded.push(`${req.method} ${req.url}`);
    seen.auth.push(req.headers["proxy-authorization"]);
    const target = new URL(req.url ?? "");
    const to = route(target.hostname, Number(target.port || 80));
    if (!to) {
      res.writeHead(502).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    const up = httpRequest({ host: to.host, port: to.port, method: req.method, path: target.pathname + target.search, headers }, (r: IncomingMessage) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  server.on("connect", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    seen.connects.push(req.url ?? "");
    seen.auth.push(req.headers["proxy-authorization"]);
    const [host, port] = (req.url ?? "").split(":");
    const to = opts.refuse ? undefined : route(host ?? "", Number(port));
    if (!to) {
      socket.end(`HTTP/1.1 ${opts.refuse ? "407 Proxy Authentication Required" : "403 Forbidden"}\r\n\r\n`);
      return;
    }
    const up = connect(to.port, to.host, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      up.write(head);
      relay(socket, up);
    });
    up.on("error", () => socket.destroy()); // before the tunnel is up, too
    socket.on("error", () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    /** With credentials, which every request through it then carries. */
    url: new URL(`http://user:secret@127.0.0.1:${port}`),
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
