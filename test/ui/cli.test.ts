/** `weightbridge ui` as a real process: loopback by default; any other address needs a token, and then every request carries it. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, runCli } from "../support/cli.js";
import { tempDir } from "../support/project.js";

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill("SIGTERM");
});

function serve(args: string[], env: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, "ui", "--port", "0", ...args], {
      env: { ...process.env, CI: "true", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    procs.push(proc);
    let out = "";
    let err = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /weightbridge ui: (\S+)/.exec(out);
      if (m?.[1]) resolve({ url: m[1], proc });
    });
    proc.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    proc.on("close", (code) => reject(new Error(`ui exited ${code}: ${err}`)));
  });
}

describe("weightbridge ui", () => {
  const db = () => join(tempDir(), "ui.sqlite");

  it("refuses a non-loopback address without a token, with a hint", async () => {
    const r = await runCli(["ui", "--host", "0.0.0.0", "--port", "0"], { env: { WEIGHTBRIDGE_DATABASE_URL: db(), WEIGHTBRIDGE_UI_TOKEN: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to serve the UI on 0\.0\.0\.0 without a token/);
    expect(r.stderr).toMatch(/--token/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const short = await runCli(["ui", "--token", "abc"], { env: { WEIGHTBRIDGE_DATABASE_URL: db() } });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/too short/);
  });

  it("with a token, answers nothing without it; ?token= sets an HttpOnly cookie once", async () => {
    const { url } = await serve(["--host", "0.0.0.0"], { WEIGHTBRIDGE_DATABASE_URL: db(), WEIGHTBRIDGE_UI_TOKEN: "s3cret-token-1234" });
    expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/\?token=s3cret-token-1234$/);
    const origin = url.replace("0.0.0.0", "127.0.0.1").replace(/\/\?.*$/, "");
    expect((await fetch(`${origin}/api/v1/runs`)).status).toBe(401);
    expect((await fetch(`${origin}/`)).status).toBe(401);
    expect((await fetch(`${origin}/api/v1/runs`, { headers: { authorization: "Bearer wrong-token-xx" } })).status).toBe(401);
    const ok = await fetch(`${origin}/api/v1/runs`, { headers: { authorization: "Bearer s3cret-token-1234" } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ runs: [], nextCursor: null });
    const login = await fetch(`${origin}/runs/x?token=s3cret-token-1234`, { redirect: "manual" });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/runs/x");
    const cookie = login.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await fetch(`${origin}/runs/x`, { headers: { cookie: cookie.split(";")[0] ?? "" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script type="module" src="\/app.js">/);
  });

  it("binds 127.0.0.1 by default and serves the built app offline", async () => {
    const { url } = await serve([], { WEIGHTBRIDGE_DATABASE_URL: db() });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const js = await fetch(`${url}app.js`);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    const body = await js.text();
    // Nothing in the bundle points at another host.
    expect(body.match(/https?:\/\/[a-z0-9.-]+/gi)?.filter((u) => !/w3\.org|preactjs|github\.com|reactjs|localhost/.test(u)) ?? []).toEqual([]);
  });
});
