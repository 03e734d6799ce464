import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { join } from "node:path";
import { createServer as tlsServer } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { selfSignedCert } from "../support/certs.js";
import { runCli } from "../support/cli.js";
import { relay, startForwardProxy } from "../support/forward-proxy.js";
import { startHub } from "../support/hub-server.js";
import { tempDir } from "../support/project.js";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const listen = async (s: Server | import("node:tls").Server) => {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => s.close(r)));
  return (s.address() as AddressInfo).port;
};

/** The fake Hub host: it does not resolve, so only a proxy that maps it can reach the local Hub. */
const HUB_HOST = "hub.weightbridge.test";

/** A forward proxy that alone knows HUB_HOST: http to the local Hub, CONNECT to `tunnelPort` (a TLS front of it). */
async function proxyFor(hubPort: number, tunnelPort?: number) {
  const proxy = await startForwardProxy({
    route: (host, port) => {
      if (host !== HUB_HOST) return undefined;
      if (port === 443) return tunnelPort === undefined ? undefined : { host: "127.0.0.1", port: tunnelPort };
      return { host: "127.0.0.1", port: hubPort };
    },
  });
  closers.push(() => proxy.close());
  return { url: proxy.url.href, seen: proxy.seen };
}

const files = [
  { path: "README.md", content: Buffer.from("---\nlicense: mit\n---\n"), git: true },
  { path: "model.bin", content: Buffer.from("weights".repeat(100)) },
];
const basic = `Basic ${Buffer.from("user:secret").toString("base64")}`;

describe("Hub requests through a proxy (HTTP_PROXY / HTTPS_PROXY, as for providers)", () => {
  it("reaches an http Hub only through http_proxy, with the proxy's credentials", async () => {
    const hub = await startHub("acme/tiny", files);
    closers.push(() => hub.close());
    const hubPort = Number(new URL(hub.url).port);
    const proxy = await proxyFor(hubPort);
    const out = join(tempDir(), "lock.json");
    const r = await runCli(["lock", "hf:acme/tiny", "-o", out, "--json"], {
      env: { HF_ENDPOINT: `http://${HUB_HOST}:${hubPort}`, HTTP_PROXY: proxy.url, WEIGHTBRIDGE_CACHE: tempDir(), NO_PROXY: "" },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lock = JSON.parse(readFileSync(out, "utf8")) as { source: { commit: string }; files: { path: string }[] };
    expect(lock.source.commit).toBe(hub.commit);
    expect(lock.files.map((f) => f.path).sort()).toEqual(["README.md", "model.bin"]);
    // Every Hub call went through the proxy: revision, listing, file info and downloads (pinned to the commit).
    const at = `http://${HUB_HOST}:${hubPort}`;
    expect([...proxy.seen.forwarded].sort()).toEqual(
      [
        `GET ${at}/api/models/acme/tiny/revision/main`,
        `GET ${at}/api/models/acme/tiny/tree/main?recursive=true&expand=false`,
        `POST ${at}/api/models/acme/tiny/paths-info/${hub.commit}`,
        `POST ${at}/api/models/acme/tiny/paths-info/${hub.commit}`,
        `GET ${at}/acme/tiny/resolve/${hub.commit}/README.md`,
        `GET ${at}/acme/tiny/resolve/${hub.commit}/model.bin`,
      ].sort(),
    );
    expect(new Set(proxy.seen.auth)).toEqual(new Set([basic]));
  }, 30_000);

  it("tunnels to an https Hub with CONNECT; TLS is checked end to end against NODE_EXTRA_CA_CERTS", async () => {
    const hub = await startHub("acme/tiny", files);
    closers.push(() => hub.close());
    const hubPort = Number(new URL(hub.url).port);
    const dir = tempDir();
    const cert = selfSignedCert(dir, "hub", `/CN=${HUB_HOST}`, ["-addext", `subjectAltName=DNS:${HUB_HOST}`]);
    // The Hub's TLS front: decrypts and relays to the local (plain http) Hub.
    const front = tlsServer({ key: readFileSync(cert.key), cert: readFileSync(cert.cert) }, (s) => relay(s, connect(hubPort, "127.0.0.1")));
    const proxy = await proxyFor(hubPort, await listen(front));
    const env = { HF_ENDPOINT: `https://${HUB_HOST}`, HTTPS_PROXY: proxy.url, WEIGHTBRIDGE_CACHE: tempDir(), NO_PROXY: "" };
    const out = join(dir, "lock.json");
    const r = await runCli(["lock", "hf:acme/tiny", "-o", out, "--json"], { env: { ...env, NODE_EXTRA_CA_CERTS: cert.cert } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((JSON.parse(readFileSync(out, "utf8")) as { source: { commit: string } }).source.commit).toBe(hub.commit);
    expect(proxy.seen.connects.length).toBeGreaterThan(0);
    expect(new Set(proxy.seen.connects)).toEqual(new Set([`${HUB_HOST}:443`]));
    expect(proxy.seen.forwarded).toEqual([]); // nothing in the clear
    // Without the CA, the tunnel is made but the certificate is refused: a clear error, not a download.
    const untrusted = await runCli(["lock", "hf:acme/tiny", "-o", join(dir, "l2.json")], { env });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/hf:acme\/tiny.*(certificate|self.signed).*through the proxy http:\/\/127\.0\.0\.1:\d+\)/i);
    expect(untrusted.stderr).not.toContain("secret");
  }, 30_000);

  it("never proxies a loopback Hub, and goes direct to hosts NO_PROXY names", async () => {
    const hub = await startHub("acme/tiny", files);
    closers.push(() => hub.close());
    const dead = "http://127.0.0.1:9"; // a proxy that is not there: using it would fail
    const loop = await runCli(["lock", "hf:acme/tiny", "-o", join(tempDir(), "l.json")], {
      env: { HF_ENDPOINT: hub.url, HTTP_PROXY: dead, WEIGHTBRIDGE_CACHE: tempDir(), NO_PROXY: "" },
    });
    expect(loop.code).toBe(0);
    // NO_PROXY names the (unresolvable) Hub host: the proxy that could reach it is not asked.
    const hubPort = Number(new URL(hub.url).port);
    const proxy = await proxyFor(hubPort);
    const direct = await runCli(["lock", "hf:acme/tiny", "-o", join(tempDir(), "l.json")], {
      env: { HF_ENDPOINT: `http://${HUB_HOST}:${hubPort}`, HTTP_PROXY: proxy.url, NO_PROXY: `example.com,.weightbridge.test`, WEIGHTBRIDGE_CACHE: tempDir() },
    });
    expect(direct.code).not.toBe(0);
    expect(proxy.seen.forwarded).toEqual([]);
  }, 30_000);
});
