/** The pickle scanner's units on their own: the opcode table, the symbolic machine, the rules. */
import { describe, expect, it } from "vitest";
import { DEFAULT_PICKLE_LIMITS, Machine, PickleError } from "../../src/vet/formats/pickle/machine.js";
import { OPCODES } from "../../src/vet/formats/pickle/opcodes.js";
import { dynamicIssues, globalIssues, joblibArray } from "../../src/vet/formats/pickle/rules.js";
import { bufferSource } from "../../src/vet/source.js";
import { python } from "../support/scan-corpus.js";

describe("opcode table", () => {
  it("has exactly CPython's opcodes (pickletools), with the same names", () => {
    const cpython = JSON.parse(
      python("import pickletools, json, sys; sys.stdout.write(json.dumps({ord(o.code): o.name for o in pickletools.opcodes}))").toString(),
    );
    const ours = Object.fromEntries(OPCODES.flatMap((o, byte) => (o ? [[String(byte), o.name]] : [])));
    expect(ours).toEqual(cpython);
  });
});

describe("machine", () => {
  const run = (bytes: string) => {
    const m = new Machine(bufferSource(Buffer.from(bytes, "latin1")), DEFAULT_PICKLE_LIMITS, new Set(), 0);
    m.run();
    return m;
  };
  it("follows names through the memo into STACK_GLOBAL and records the call", () => {
    // "os" and "system" memoised, fetched back, imported by STACK_GLOBAL and called by REDUCE.
    const m = run("\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93\x8c\x02id\x85R.");
    const g = m.globals.get("os.system");
    expect(g?.calls.map((c) => c.op)).toEqual(["REDUCE"]);
    expect(m.stack).toEqual([]);
  });
  it("counts every opcode up to STOP, and a pickle without STOP runs off the end", () => {
    expect(run("}(\x8c\x01aK\x07u0.").ops).toBe(7);
    const m = new Machine(bufferSource(Buffer.from("}(\x8c\x01aK\x07u", "latin1")), DEFAULT_PICKLE_LIMITS, new Set(), 0);
    expect(() => m.run()).toThrow(PickleError);
    expect(() => new Machine(bufferSource(Buffer.from("\x80\x02\xff", "latin1")), DEFAULT_PICKLE_LIMITS, new Set(), 0).run()).toThrow(/invalid opcode 0xff/);
  });
  it("bounds the stack", () => {
    const m = new Machine(bufferSource(Buffer.from("N".repeat(20), "latin1")), { ...DEFAULT_PICKLE_LIMITS, maxStack: 10 }, new Set(), 0);
    expect(() => m.run()).toThrow(/stack deeper than 10/);
  });
});

describe("rules", () => {
  it("sizes a joblib array from its wrapper state", () => {
    const state = {
      k: "dict" as const,
      entries: new Map([
        [
          "shape",
          {
            k: "tuple" as const,
            items: [
              { k: "int" as const, n: 2 },
              { k: "int" as const, n: 3 },
            ],
          },
        ],
        [
          "dtype",
          {
            k: "obj" as const,
            of: { module: "numpy", name: "dtype", cls: "allowed" as const, importedAt: 0, importedBy: "GLOBAL", calls: [] },
            args: { k: "tuple" as const, items: [{ k: "str" as const, s: "<U5" }] },
          },
        ],
        ["numpy_array_alignment_bytes", { k: "int" as const, n: 16 }],
      ]),
    };
    const wrapper = (st: typeof state | { k: "val" }) => ({ k: "obj" as const, of: undefined, state: st });
    expect(joblibArray(wrapper(state))).toEqual({ bytes: 2 * 3 * 20, object: false, aligned: true });
    expect(joblibArray(wrapper({ k: "val" }))).toBe("state is not a dict");
  });
  it("turns globals and dynamic calls into findings by tier", () => {
    const g = (module: string, name: string, cls: "dangerous" | "unknown" | "low", called: boolean) => ({
      module,
      name,
      cls,
      importedAt: 2,
      importedBy: "GLOBAL",
      calls: called ? [{ op: "REDUCE", at: 9 }] : [],
    });
    const issues = globalIssues([g("os", "system", "dangerous", true), g("x.y", "Z", "unknown", false), g("pandas.core.frame", "DataFrame", "low", true)]);
    expect(issues.map((i) => `${i.severity}:${i.rule}`)).toEqual(["critical:pickle.dangerous-call", "medium:pickle.unknown-import", "low:pickle.data-class"]);
    expect(dynamicIssues([{ op: "REDUCE", at: 5, what: "a string" }])[0]?.severity).toBe("high");
  });
});
