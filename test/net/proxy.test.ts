import { describe, expect, it } from "vitest";
import { proxyFor } from "../../src/net/index.js";

describe("proxyFor (the environment, as curl reads it)", () => {
  const u = (s: string) => new URL(s);
  it("uses https_proxy for https and http_proxy for http, lower case first", () => {
    const env = { HTTPS_PROXY: "http://upper:1", https_proxy: "http://lower:2", HTTP_PROXY: "proxy.local:3128" };
    expect(proxyFor(u("https://api.example.com/v1"), env)?.href).toBe("http://lower:2/");
    expect(proxyFor(u("http://api.example.com/v1"), env)?.href).toBe("http://proxy.local:3128/");
    expect(proxyFor(u("https://api.example.com"), {})).toBeUndefined();
  });
  it("honours NO_PROXY (exact, suffixes, ports, *) and never proxies loopback", () => {
    const env = { HTTPS_PROXY: "http://p:1", NO_PROXY: "internal.example.com, .corp, *.lab, vllm:8443" };
    expect(proxyFor(u("https://internal.example.com"), env)).toBeUndefined();
    expect(proxyFor(u("https://a.internal.example.com"), env)).toBeUndefined();
    expect(proxyFor(u("https://gpu.corp"), env)).toBeUndefined();
    expect(proxyFor(u("https://x.lab"), env)).toBeUndefined();
    expect(proxyFor(u("https://vllm:8443"), env)).toBeUndefined();
    expect(proxyFor(u("https://vllm"), env)?.host).toBe("p:1");
    expect(proxyFor(u("https://example.com"), env)?.host).toBe("p:1");
    expect(proxyFor(u("https://notinternal.example.com.evil"), env)?.host).toBe("p:1");
    for (const h of ["http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"])
      expect(proxyFor(u(h), { HTTP_PROXY: "http://p:1" })).toBeUndefined();
    expect(proxyFor(u("https://anything"), { HTTPS_PROXY: "http://p:1", no_proxy: "*" })).toBeUndefined();
    expect(() => proxyFor(u("https://a"), { HTTPS_PROXY: "http://[bad" })).toThrow(/HTTPS_PROXY is not a URL/);
  });
});
