import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN } from "../support/cli.js";
import { freePort } from "../support/ports.js";
import { tempDir, writeFiles } from "../support/project.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

function gateway(dir: string) {
  const p = spawn(process.execPath, [BIN, "gateway", "-c", join(dir, "gateway.yaml")], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(p);
  let out = "";
  p.stdout?.on("data", (d) => {
    out += d;
  });
  p.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => p.once("exit", (code) => r(code)));
  const ready = async () => {
    const deadline = Date.now() + 15_000;
    while (!/gateway on/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!/gateway on/.test(out)) throw new Error(`gateway did not start: ${out}`);
  };
  return { p, exited, ready, output: () => out };
}

describe("the gateway process", () => {
  it("serves, stops on SIGTERM with exit code 0, and refuses a second one on the same address", async () => {
    const dir = tempDir();
    const port = await freePort();
    writeFiles(dir, {
      "gateway.yaml": `listen: 127.0.0.1:${port}
deployments:
  - id: a
    baseUrl: http://127.0.0.1:9/v1
    model: m
    accepts: []
routes:
  - model: support
    targets: [a]
    onSensitive: block
`,
    });
    const first = gateway(dir);
    await first.ready();
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ ok: true });
    const second = gateway(dir);
    expect(await second.exited).toBe(2);
    expect(second.output()).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the address is in use/);
    first.p.kill("SIGTERM");
    expect(await first.exited).toBe(0);
  }, 40_000);
});
