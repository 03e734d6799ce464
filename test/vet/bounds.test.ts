/** Declared vs present: sizes a file declares are checked against the bytes it holds (corpus written by python3/numpy). */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { makeScanCorpus } from "../support/scan-corpus.js";

let dir = "";
beforeAll(() => {
  ({ dir } = makeScanCorpus());
}, 60_000);

const rules = async (path: string) => (await scan(join(dir, path))).findings.filter((f) => atLeast(f.severity, "low")).map((f) => `${f.severity}:${f.rule}`);

describe("declared vs present", () => {
  it(".npy declaring 10^22 elements with no data", async () => {
    const r = await scan(join(dir, "malformed/huge-shape.npy"));
    const f = r.findings.find((x) => x.rule === "numpy.truncated");
    expect(f?.severity).toBe("medium");
    expect(f?.message).toContain("80000000000000000000000 data bytes");
  });
  it(".npy and .npz entries cut short", async () => {
    expect(await rules("malformed/truncated.npy")).toEqual(["medium:numpy.truncated"]);
    expect(await rules("malformed/truncated-entry.npz")).toEqual(["medium:numpy.truncated"]);
  });
  it("real arrays of every shape and simple dtype match exactly", async () => {
    expect(await rules("benign/mixed-dtypes.npz")).toEqual([]);
    expect(await rules("benign/arrays.npz")).toEqual([]);
    expect(await rules("benign/weights.npy")).toEqual([]);
  });
  it("zip entries whose declared size is not what they hold", async () => {
    expect(await rules("malformed/size-mismatch-deflated.pt")).toContain("medium:zip.size-mismatch");
    expect(await rules("malformed/size-mismatch-stored.pt")).toContain("medium:zip.size-mismatch");
    expect(await rules("benign/state-dict.pt")).toEqual([]);
  });
  it("safetensors and GGUF sizes past the end are findings", async () => {
    expect(await rules("malformed/truncated.gguf")).not.toEqual([]);
    expect(await rules("malformed/gap.safetensors")).not.toEqual([]);
  });
});
