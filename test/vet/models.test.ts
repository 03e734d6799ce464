/**
 * A folder of model folders: one verdict per model (text, JSON models[], SARIF) and an overall verdict
 * that is the worst of them, so one model's licence cannot hide another's missing one.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../src/vet/scan.js";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";
import { python } from "../support/scan-corpus.js";

const ST = (() => {
  const h = Buffer.from(JSON.stringify({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }));
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([n, h, Buffer.alloc(8)]);
})();
const EVIL = "import pickle,os,sys\nclass E:\n  def __reduce__(self): return (os.system, ('id',))\nsys.stdout.buffer.write(pickle.dumps(E(), protocol=2))";

let dir = "";
beforeAll(() => {
  dir = tempDir();
  const model = (name: string, files: Record<string, string>, weights: [string, Buffer]) => {
    mkdirSync(join(dir, name));
    writeFiles(join(dir, name), { "config.json": "{}", ...files });
    writeFileSync(join(dir, name, weights[0]), weights[1]);
  };
  model("apache-model", { "README.md": "---\nlicense: apache-2.0\n---\n" }, ["model.safetensors", ST]);
  model("no-licence-model", {}, ["model.safetensors", ST]);
  model("evil-model", { "README.md": "---\nlicense: mit\n---\n" }, ["pytorch_model.bin", python(EVIL)]);
});

describe("scan of a folder of model folders", () => {
  it("judges each model on its own; the overall verdict is the worst", async () => {
    const r = await scan(dir);
    expect(r.models.map((m) => `${m.path}: ${m.verdict} ${m.license.id}`)).toEqual([
      "apache-model: pass apache-2.0",
      "evil-model: fail mit",
      "no-licence-model: review unknown",
    ]);
    expect(r.verdict).toBe("fail");
    expect(r.license.id).toBe("mixed");
    expect(r.findings.find((f) => f.rule === "license.unknown")?.file).toBe("no-licence-model");
    expect(r.models.find((m) => m.path === "evil-model")?.counts.critical).toBe(1);
  });

  it("one model's licence does not hide another's missing one", async () => {
    const two = tempDir();
    for (const [name, readme] of [
      ["a", "---\nlicense: apache-2.0\n---\n"],
      ["b", ""],
    ] as const) {
      mkdirSync(join(two, name));
      writeFiles(join(two, name), { "config.json": "{}", ...(readme ? { "README.md": readme } : {}) });
      writeFileSync(join(two, name, "model.safetensors"), ST);
    }
    const r = await scan(two);
    expect(r.models.map((m) => `${m.path}:${m.verdict}`)).toEqual(["a:pass", "b:review"]);
    expect(r.verdict).toBe("review");
  });

  it("a single model folder has one models[] entry with path ''", async () => {
    const r = await scan(join(dir, "apache-model"));
    expect(r.models.map((m) => [m.path, m.verdict])).toEqual([["", "pass"]]);
    expect(r.verdict).toBe("pass");
  });

  it("an unknown licence on a bare file is info, unless the policy asks for a licence", async () => {
    const file = join(dir, "no-licence-model", "model.safetensors");
    const bare = await scan(file);
    expect(bare.verdict).toBe("pass");
    expect(bare.findings.find((f) => f.rule === "license.unknown")?.severity).toBe("info");
    const policy = { failOn: "high" as const, remoteCode: "deny" as const, allowGlobals: [], licenses: { review: ["unknown"] } };
    const asked = await scan(file, { policy });
    expect(asked.verdict).toBe("review");
    expect(asked.findings.find((f) => f.rule === "license.unknown")?.severity).toBe("medium");
    const folder = await scan(join(dir, "no-licence-model"));
    expect(folder.findings.find((f) => f.rule === "license.unknown")?.severity).toBe("medium");
  });

  it("text and SARIF carry each model's verdict", async () => {
    const text = await runCli(["scan", dir]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/REVIEW\s+no-licence-model\s+license unknown/);
    expect(text.stdout).toMatch(/PASS\s+apache-model/);
    const out = join(tempDir(), "r.sarif");
    await runCli(["scan", dir, "--format", "sarif", "-o", out]);
    const sarif = JSON.parse((await import("node:fs")).readFileSync(out, "utf8"));
    expect(sarif.runs[0].properties.models.map((m: { path: string; verdict: string }) => `${m.path}:${m.verdict}`)).toEqual([
      "apache-model:pass",
      "evil-model:fail",
      "no-licence-model:review",
    ]);
  });
});
