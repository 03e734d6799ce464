import { execFileSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveOrigin } from "../../src/vet/checks/origin.js";
import { scan } from "../../src/vet/scan.js";
import { pae } from "../../src/vet/signature.js";
import { selfSignedCert } from "../support/certs.js";
import { runCli } from "../support/cli.js";
import { startHub } from "../support/hub-server.js";
import { tempDir, writeFiles } from "../support/project.js";
import { python } from "../support/scan-corpus.js";

const EVIL = "import pickle,os,sys\nclass E:\n  def __reduce__(self): return (os.system, ('id',))\nsys.stdout.buffer.write(pickle.dumps(E(), protocol=2))";
const SAFE_ST = (() => {
  const h = Buffer.from(JSON.stringify({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }));
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([n, h, Buffer.alloc(8)]);
})();

function modelDir(extra: Record<string, string | Buffer> = {}) {
  const dir = tempDir();
  writeFiles(dir, {
    "README.md": "---\nlicense: apache-2.0\nbase_model: Qwen/Qwen3-8B\n---\n# fine-tune\n",
    "config.json": JSON.stringify({ model_type: "qwen3" }),
  });
  writeFileSync(join(dir, "model.safetensors"), SAFE_ST);
  for (const [k, v] of Object.entries(extra)) writeFileSync(join(dir, k), v);
  return dir;
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("weightbridge scan (CLI)", () => {
  it("prints the JSON contract and exits 1 on fail, 0 on pass", async () => {
    const dir = modelDir({ "pytorch_model.bin": python(EVIL) });
    const bad = await runCli(["scan", dir, "--format", "json", "--repo", "acme/qwen3-ft"]);
    expect(bad.code).toBe(1);
    const r = JSON.parse(bad.stdout);
    expect(Object.keys(r)).toEqual(expect.arrayContaining(["target", "verdict", "files", "findings", "license", "origin"]));
    expect(r.verdict).toBe("fail");
    expect(r.files.find((f: { path: string }) => f.path === "model.safetensors")).toMatchObject({ size: SAFE_ST.length, format: "safetensors" });
    expect(r.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.findings[0]).toMatchObject({ severity: "critical", rule: "pickle.dangerous-call", file: "pytorch_model.bin" });
    expect(r.findings[0].evidence).toMatch(/^os\.system called via REDUCE at byte \d+$/);
    expect(r.license).toMatchObject({ id: "apache-2.0", commercial: "yes" });
    expect(r.origin.root).toMatchObject({ repo: "Qwen/Qwen3-8B", country: "CN" });

    const good = await runCli(["scan", modelDir()]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^PASS /);
    expect(good.stdout).toContain("license: Apache License 2.0");
    expect(good.stdout.split("\n").length).toBeLessThan(25);

    const missing = await runCli(["scan", join(dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file or folder");
  });

  it("writes SARIF 2.1.0 and a CycloneDX 1.6 ML-BOM with hashes, license and pedigree", async () => {
    const dir = modelDir({ "extra.pkl": python(EVIL) });
    const out = tempDir();
    const s = await runCli(["scan", dir, "--format", "sarif", "-o", join(out, "s.sarif")]);
    expect(s.code).toBe(1);
    const sarif = JSON.parse(readFileSync(join(out, "s.sarif"), "utf8"));
    expect(sarif.version).toBe("2.1.0");
    const result = sarif.runs[0].results.find((x: { ruleId: string }) => x.ruleId === "pickle.dangerous-call");
    expect(result).toMatchObject({ level: "error", locations: [{ physicalLocation: { artifactLocation: { uri: "extra.pkl" } } }] });
    expect(sarif.runs[0].tool.driver.rules.some((r: { id: string }) => r.id === "pickle.dangerous-call")).toBe(true);

    const c = await runCli(["scan", modelDir(), "--repo", "acme/qwen3-ft", "--format", "cyclonedx", "-o", join(out, "bom.json")]);
    expect(c.code).toBe(0);
    const bom = JSON.parse(readFileSync(join(out, "bom.json"), "utf8"));
    expect(bom.bomFormat).toBe("CycloneDX");
    expect(bom.specVersion).toBe("1.6");
    const model = bom.metadata.component;
    expect(model).toMatchObject({ type: "machine-learning-model", name: "acme/qwen3-ft" });
    expect(model.licenses[0].license.id).toBe("Apache-2.0");
    expect(model.pedigree.ancestors[0]).toMatchObject({ type: "machine-learning-model", name: "Qwen/Qwen3-8B", publisher: expect.any(String) });
    const file = model.components.find((x: { name: string }) => x.name === "model.safetensors");
    expect(file.hashes[0]).toMatchObject({ alg: "SHA-256", content: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("applies a policy: formats, licenses, origins, remote code, allowGlobals; bad policies name file:line", async () => {
    const pdir = tempDir();
    const policy = (name: string, text: string) => {
      writeFileSync(join(pdir, name), text);
      return join(pdir, name);
    };
    const dir = modelDir({
      "legacy.pkl": python("import pickle,sys,collections; sys.stdout.buffer.write(pickle.dumps(collections.OrderedDict(a=1), protocol=2))"),
    });
    const onlySt = await runCli(["scan", dir, "--json", "--policy", policy("st.yaml", "formats:\n  require: [safetensors, gguf]\n")]);
    expect(onlySt.code).toBe(1);
    expect(JSON.parse(onlySt.stdout).findings.some((f: { rule: string; file: string }) => f.rule === "policy.format" && f.file === "legacy.pkl")).toBe(true);

    const deny = await runCli(["scan", modelDir(), "--repo", "acme/x", "--json", "--policy", policy("o.yaml", "origins:\n  deny: [CN]\n")]);
    expect(deny.code).toBe(1);
    expect(JSON.parse(deny.stdout).reasons[0]).toMatch(/origin .* \(CN\) is not allowed/);
    const review = await runCli([
      "scan",
      modelDir(),
      "--json",
      "--policy",
      policy("r.yaml", "origins:\n  review: [CN]\nlicenses:\n  allow: [apache-2.0, mit]\n"),
    ]);
    expect(review.code).toBe(0);
    expect(JSON.parse(review.stdout).verdict).toBe("review");

    const unknown = modelDir({ "clf.pkl": Buffer.from("\x80\x02cxgboost.core\nBooster\n)\x81}b.", "latin1") });
    expect((await runCli(["scan", unknown])).code).toBe(1);
    const allowed = await runCli(["scan", unknown, "--policy", policy("a.yaml", 'allowGlobals: ["xgboost.core.*"]\n')]);
    expect(allowed.code).toBe(0);

    const remote = modelDir({ "modeling_x.py": "print(1)\n" });
    expect((await runCli(["scan", remote])).code).toBe(1);
    expect((await runCli(["scan", remote, "--policy", policy("rc.yaml", "remoteCode: allow\n")])).code).toBe(0);

    const bad = await runCli(["scan", dir, "--policy", policy("bad.yaml", "failOn: high\nremoteCode: sometimes\n")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:2/);
  });
});

describe("repository files", () => {
  it("reports a chat_template.json escape once", async () => {
    const dir = modelDir({ "chat_template.json": JSON.stringify({ chat_template: "{{ messages.__class__ }}" }) });
    const r = await scan(dir);
    expect(r.findings.filter((f) => f.rule === "template.sandbox-escape").map((f) => f.file)).toEqual(["chat_template.json"]);
  });
});

describe("lock and verify", () => {
  it("records hashes and reports added, removed and changed files", async () => {
    const dir = modelDir({ "a.bin": Buffer.alloc(3 << 20, 1) });
    const l = await runCli(["lock", dir, "--json"]);
    expect(l.code).toBe(0);
    const lock = JSON.parse(readFileSync(join(dir, "weightbridge.lock.json"), "utf8"));
    expect(lock.lockfileVersion).toBe(1);
    expect(lock.files.map((f: { path: string }) => f.path).sort()).toEqual(["README.md", "a.bin", "config.json", "model.safetensors"]);
    expect((await runCli(["verify", dir])).code).toBe(0);
    const big = Buffer.alloc(3 << 20, 1);
    big[12345] = 2;
    writeFileSync(join(dir, "a.bin"), big);
    writeFileSync(join(dir, "new.txt"), "x");
    rmSync(join(dir, "config.json"));
    const v = await runCli(["verify", dir, "--json"]);
    expect(v.code).toBe(1);
    const r = JSON.parse(v.stdout);
    expect(r).toMatchObject({ ok: false, added: ["new.txt"], removed: ["config.json"], changed: [{ path: "a.bin" }] });
    const text = await runCli(["verify", dir]);
    expect(text.stdout).toMatch(/changed {2}a\.bin/);
  });
});

describe("hf: targets", () => {
  it("downloads every file, checks LFS hashes, records the commit, and scans", async () => {
    const hub = await startHub("acme/tiny", [
      { path: "README.md", content: Buffer.from("---\nlicense: mit\nbase_model: meta-llama/Llama-3.1-8B\n---\n"), git: true },
      { path: "model.safetensors", content: SAFE_ST },
      { path: "sub/evil.pkl", content: python(EVIL) },
    ]);
    process.env.HF_ENDPOINT = hub.url;
    process.env.WEIGHTBRIDGE_CACHE = tempDir();
    try {
      const r = await scan("hf:acme/tiny@main");
      expect(r.source).toMatchObject({ type: "hf", repo: "acme/tiny", revision: "main", commit: hub.commit });
      expect(r.files.map((f) => f.path).sort()).toEqual(["README.md", "model.safetensors", "sub/evil.pkl"]);
      expect(r.verdict).toBe("fail");
      expect(r.license).toMatchObject({ id: "mit", revision: hub.commit });
      expect(r.origin).toMatchObject({ repo: "acme/tiny", root: { repo: "meta-llama/Llama-3.1-8B", country: "US" } });
      const cli = await runCli(["lock", "hf:acme/tiny", "-o", join(tempDir(), "l.json"), "--json"], {
        env: { HF_ENDPOINT: hub.url, WEIGHTBRIDGE_CACHE: tempDir() },
      });
      expect(cli.code).toBe(0);
      expect(JSON.parse(cli.stdout).source).toMatchObject({ type: "hf", repo: "acme/tiny", commit: hub.commit });
    } finally {
      await hub.close();
    }
    const liar = await startHub("acme/bad", [{ path: "model.safetensors", content: SAFE_ST, lieAboutHash: true }]);
    try {
      const r = await runCli(["scan", "hf:acme/bad"], { env: { HF_ENDPOINT: liar.url, WEIGHTBRIDGE_CACHE: tempDir() } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("sha256 mismatch");
    } finally {
      await liar.close();
    }
  });

  it("follows base_model hop by hop to the root lab", async () => {
    const cards: Record<string, string[]> = { "someone/ft": ["unsloth/Qwen3-8B"], "unsloth/Qwen3-8B": ["Qwen/Qwen3-8B"] };
    const o = await resolveOrigin("bartowski/ft-GGUF", ["someone/ft"], async (repo) => cards[repo]);
    expect(o.chain.map((c) => c.repo)).toEqual(["someone/ft", "unsloth/Qwen3-8B", "Qwen/Qwen3-8B"]);
    expect(o.root).toMatchObject({ org: "Qwen", country: "CN" });
  });
});

describe("model signing (model.sig, Sigstore bundle with an in-toto statement)", () => {
  const bundle = (payload: object, signer: (data: Buffer) => Buffer, material: object) => {
    const body = Buffer.from(JSON.stringify(payload));
    const type = "application/vnd.in-toto+json";
    return JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      verificationMaterial: material,
      dsseEnvelope: { payload: body.toString("base64"), payloadType: type, signatures: [{ sig: signer(pae(type, body)).toString("base64"), keyid: "" }] },
    });
  };
  const statement = (files: Record<string, string>) => ({
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ name: "model", digest: { sha256: "00" } }],
    predicateType: "https://model_signing/signature/v1.0",
    predicate: { resources: Object.entries(files).map(([name, digest]) => ({ name, algorithm: "sha256", digest })) },
  });
  const sha = (b: Buffer | string) => execFileSync("sha256sum", { input: b }).toString().split(" ")[0] as string;

  it("verifies with a public key; reports mismatched, unsigned and invalid", async () => {
    const dir = modelDir();
    const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pub = join(tempDir(), "pub.pem");
    writeFileSync(pub, keys.publicKey.export({ type: "spki", format: "pem" }));
    const otherPub = join(tempDir(), "other.pem");
    writeFileSync(otherPub, other.publicKey.export({ type: "spki", format: "pem" }));
    const files = Object.fromEntries(["README.md", "config.json", "model.safetensors"].map((f) => [f, sha(readFileSync(join(dir, f)))]));
    writeFileSync(
      join(dir, "model.sig"),
      bundle(statement(files), (d) => sign("sha256", d, keys.privateKey), { publicKey: { hint: "k" } }),
    );
    const ok = await runCli(["verify", dir, "--key", pub, "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).signature).toMatchObject({ status: "valid", signer: { method: "key" } });
    const wrong = await runCli(["verify", dir, "--key", otherPub, "--json"]);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).signature.status).toBe("invalid");
    writeFileSync(join(dir, "config.json"), "{}");
    writeFileSync(join(dir, "added.txt"), "x");
    const bad = await runCli(["verify", dir, "--key", pub, "--json"]);
    expect(bad.code).toBe(1);
    const sig = JSON.parse(bad.stdout).signature;
    expect(sig.status).toBe("mismatch");
    expect(sig.files).toEqual(
      expect.arrayContaining([
        { path: "config.json", status: "mismatch" },
        { path: "added.txt", status: "unsigned" },
      ]),
    );
    const scanned = await runCli(["scan", dir, "--key", pub, "--json"]);
    expect(JSON.parse(scanned.stdout).findings.some((f: { rule: string }) => f.rule === "signature.mismatch")).toBe(true);
  });

  it("verifies a certificate's identity, OIDC issuer and chain", async () => {
    const d = tempDir();
    const ssl = (args: string[]) => execFileSync("openssl", args, { cwd: d, stdio: "pipe" });
    selfSignedCert(d, "ca", "/CN=test-ca");
    ssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=signer"]);
    writeFileSync(join(d, "ext.cnf"), "subjectAltName=email:release@example.com\n1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:https://accounts.example.com\n");
    ssl(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "ext.cnf"]);
    const leafDer = ssl(["x509", "-in", "leaf.pem", "-outform", "DER"]);
    const key = readFileSync(join(d, "leaf.key"));
    const dir = modelDir();
    const files = Object.fromEntries(["README.md", "config.json", "model.safetensors"].map((f) => [f, sha(readFileSync(join(dir, f)))]));
    writeFileSync(
      join(dir, "model.sig"),
      bundle(statement(files), (x) => sign("sha256", x, key), { certificate: { rawBytes: leafDer.toString("base64") } }),
    );
    const args = ["verify", dir, "--json", "--identity", "release@example.com", "--issuer", "https://accounts.example.com", "--trust-root", join(d, "ca.pem")];
    const ok = await runCli(args);
    expect(JSON.parse(ok.stdout).signature).toMatchObject({
      status: "valid",
      signer: { method: "certificate", identity: "release@example.com", issuer: "https://accounts.example.com", chainVerified: true },
    });
    const who = await runCli(["verify", dir, "--json", "--identity", "someone@else.com"]);
    expect(JSON.parse(who.stdout).signature).toMatchObject({ status: "invalid", reason: expect.stringContaining("not someone@else.com") });
    const unsigned = await runCli(["verify", modelDir(), "--json", "--identity", "release@example.com"]);
    expect(JSON.parse(unsigned.stdout).signature.status).toBe("unsigned");
  });
});
