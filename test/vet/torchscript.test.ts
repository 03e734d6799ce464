/**
 * TorchScript archives written in torch.jit.save's layout (test/fixtures/make_scan_corpus.py): the
 * archive's own __torch__ classes and torch.jit._pickle helpers pass, its code is a review finding
 * with the file list, and classes it does not define or dangerous calls still fail.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { makeScanCorpus } from "../support/scan-corpus.js";

let dir = "";
beforeAll(() => {
  ({ dir } = makeScanCorpus());
}, 60_000);

describe("TorchScript", () => {
  it("a benign archive is review, with its code files listed, and nothing above medium", async () => {
    const r = await scan(join(dir, "benign/torchscript.pt"));
    expect(r.verdict).toBe("review");
    expect(r.files[0]?.format).toBe("torchscript");
    const artifact = r.findings.filter((f) => atLeast(f.severity, "low"));
    expect(artifact.map((f) => `${f.severity}:${f.rule}`)).toEqual(["medium:torchscript.code"]);
    expect(artifact[0]?.evidence).toBe("model/code/__torch__.py, model/code/__torch__/torch/nn/modules/linear.py");
  });

  it("a __torch__ class the archive's code does not define is an unsafe call", async () => {
    const r = await scan(join(dir, "malicious/torchscript-undefined-class.pt"));
    expect(r.verdict).toBe("fail");
    expect(r.findings.some((f) => f.rule === "pickle.unsafe-call" && f.message.includes("__torch__.Injected"))).toBe(true);
    expect(r.findings.some((f) => f.message.includes("__torch__.MyModule") || f.message.includes("linear.Linear"))).toBe(false);
  });

  it("torch.jit.load inside the archive's data.pkl stays critical", async () => {
    const r = await scan(join(dir, "malicious/torchscript-jit-load.pt"));
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("critical:pickle.dangerous-call");
  });
});
