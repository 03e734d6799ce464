/**
 * node-llama-cpp is an optional peer dependency (issue 17): an install without it runs every
 * command but `provider: local`, which says in one line how to add it. The package's files are
 * copied beside a node_modules that has every installed package but node-llama-cpp.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir, writeFiles } from "../support/project.js";

const ROOT = resolve(import.meta.dirname, "../..");

function installWithoutLlama(): string {
  const dir = tempDir("wb-slim-");
  const pkg = join(dir, "node_modules", "weightbridge");
  mkdirSync(pkg, { recursive: true });
  for (const f of ["bin", "dist", "data", "package.json"]) cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
  for (const name of readdirSync(join(ROOT, "node_modules"))) {
    if (name === "node-llama-cpp" || name === "@node-llama-cpp" || name.startsWith(".")) continue;
    symlinkSync(join(ROOT, "node_modules", name), join(dir, "node_modules", name));
  }
  return dir;
}

describe("install without node-llama-cpp", () => {
  it("runs without it, and says in one line how to add it for provider: local", () => {
    const dir = installWithoutLlama();
    const bin = join(dir, "node_modules", "weightbridge", "bin", "weightbridge.js");
    writeFiles(dir, {
      "weightbridge.yaml": "models:\n  - id: tiny\n    provider: local\n    path: ./tiny.gguf\nsuites: [s.yaml]\n",
      "s.yaml": 'name: s\nprompt: "{{q}}"\ncases:\n  - vars: { q: hi }\n    expect: { type: contains, value: x }\n',
      "tiny.gguf": "GGUF",
    });
    const help = spawnSync(process.execPath, [bin, "--help"], { cwd: dir, encoding: "utf8" });
    expect(help.status).toBe(0);
    const r = spawnSync(process.execPath, [bin, "eval", "-c", "weightbridge.yaml"], { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "true" } });
    expect(r.stderr).toContain("provider: local needs node-llama-cpp, which is not installed");
    expect(r.stderr).toContain("npm i node-llama-cpp@3.21.1");
    expect(r.stderr).not.toMatch(/\n\s+at /); // one line and a hint, no stack trace
    expect(r.status).toBe(2);
  });
});
