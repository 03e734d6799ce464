import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { downloadFile } from "../../src/hub/download-file.js";
import { parseHfRef } from "../../src/hub/hub-url.js";
import { UserError } from "../../src/util/errors.js";
import { runCli } from "../support/cli.js";
import { startHub } from "../support/hub-server.js";
import { tempDir } from "../support/project.js";

const saved = { ...process.env };
beforeEach(() => {
  delete process.env.HF_TOKEN;
});
afterEach(() => {
  process.env = { ...saved };
});

describe("pull from a Hub-protocol server", () => {
  it("downloads, checks the LFS sha256 and records the commit", async () => {
    const content = randomBytes(200_000);
    const hub = await startHub("org/model-GGUF", [{ path: "m.gguf", content }]);
    process.env.HF_ENDPOINT = hub.url;
    process.env.HF_TOKEN = "hf_test";
    try {
      const dest = join(tempDir(), "m.gguf");
      const r = await downloadFile({ repo: "org/model-GGUF", path: "m.gguf", dest });
      expect(r).toMatchObject({
        size: 200_000,
        verified: true,
        commit: hub.commit,
        resumedFrom: 0,
        sha256: createHash("sha256").update(content).digest("hex"),
      });
      expect(readFileSync(dest).equals(content)).toBe(true);
      expect(hub.requests.every((q) => q.auth === "Bearer hf_test")).toBe(true);
    } finally {
      await hub.close();
    }
  });

  it("resumes an interrupted download with a Range request", async () => {
    const content = randomBytes(300_000);
    const hub = await startHub("org/m", [{ path: "w.gguf", content }], { failAfterBytes: 100_000 });
    process.env.HF_ENDPOINT = hub.url;
    try {
      const dest = join(tempDir(), "w.gguf");
      await expect(downloadFile({ repo: "org/m", path: "w.gguf", dest })).rejects.toThrow();
      expect(existsSync(`${dest}.part`)).toBe(true);
      const partial = statSync(`${dest}.part`).size;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(300_000);
      const r = await downloadFile({ repo: "org/m", path: "w.gguf", dest });
      expect(r.resumedFrom).toBe(partial);
      expect(r.verified).toBe(true);
      expect(readFileSync(dest).equals(content)).toBe(true);
      expect(hub.requests.some((q) => q.range === `bytes=${partial}-`)).toBe(true);
    } finally {
      await hub.close();
    }
  });

  it("discards a download whose hash does not match and says so", async () => {
    const hub = await startHub("org/m", [{ path: "bad.gguf", content: randomBytes(1000), lieAboutHash: true }]);
    process.env.HF_ENDPOINT = hub.url;
    try {
      const dest = join(tempDir(), "bad.gguf");
      const e = await downloadFile({ repo: "org/m", path: "bad.gguf", dest }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(UserError);
      expect((e as Error).message).toMatch(/sha256 mismatch/);
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(`${dest}.part`)).toBe(false);
    } finally {
      await hub.close();
    }
  });

  it("weightbridge pull works end to end and names a missing file clearly", async () => {
    const content = randomBytes(5000);
    const hub = await startHub("Qwen/Tiny-GGUF", [{ path: "tiny.gguf", content }]);
    try {
      const out = tempDir();
      const ok = await runCli(["pull", "hf:Qwen/Tiny-GGUF@main", "--file", "tiny.gguf", "-o", out, "--json"], { env: { HF_ENDPOINT: hub.url } });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ dest: join(out, "tiny.gguf"), size: 5000, verified: true });
      const missing = await runCli(["pull", "hf:Qwen/Tiny-GGUF", "--file", "nope.gguf", "-o", out], { env: { HF_ENDPOINT: hub.url } });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/has no file "nope\.gguf"/);
      const badRef = await runCli(["pull", "Qwen/Tiny-GGUF", "--file", "x"]);
      expect(badRef.code).toBe(2);
    } finally {
      await hub.close();
    }
  });

  it("parses hf: references", () => {
    expect(parseHfRef("hf:Qwen/Qwen3-8B@v1.0")).toEqual({ repo: "Qwen/Qwen3-8B", revision: "v1.0" });
    expect(parseHfRef("hf:a/b")).toEqual({ repo: "a/b", revision: "main" });
    expect(parseHfRef("Qwen/Qwen3-8B")).toBeUndefined();
  });
});
