import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { analyseChatTemplate } from "../../src/vet/checks/chat-template.js";
import { classifyLicense, fingerprint } from "../../src/vet/checks/license.js";
import { scanGguf } from "../../src/vet/formats/gguf.js";
import { scanPickle } from "../../src/vet/formats/pickle.js";
import { scanSafetensors, topLevelKeys } from "../../src/vet/formats/safetensors.js";
import { classifyGlobal } from "../../src/vet/globals.js";
import { bufferSource, FileSource } from "../../src/vet/source.js";
import { python } from "../support/scan-corpus.js";
import { makeTinyGguf } from "../support/tiny-gguf.js";

const pk = (code: string) => scanPickle(bufferSource(python(`import pickle, os, sys, collections\n${code}`)));

describe("pickle disassembler", () => {
  it("names the callable, the opcode and the byte offset", () => {
    const r = pk("class E:\n  def __reduce__(self): return (os.system, ('id',))\nsys.stdout.buffer.write(pickle.dumps(E(), protocol=2))");
    const f = r.issues.find((i) => i.rule === "pickle.dangerous-call");
    expect(f?.severity).toBe("critical");
    expect(f?.evidence).toMatch(/^os\.system called via REDUCE at byte \d+$/);
    expect(f?.message).toContain("written as posix.system");
  });

  it("sees STACK_GLOBAL names that come through the memo", () => {
    const bytes = Buffer.from("\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93\x8c\x02id\x85R.", "latin1");
    const r = scanPickle(bufferSource(bytes));
    expect(r.globals.map((g) => `${g.module}.${g.name}`)).toEqual(["os.system"]);
    expect(r.globals[0]?.calls[0]?.op).toBe("REDUCE");
  });

  it("separates imported from called, and allowlisted from unknown", () => {
    const imported = scanPickle(bufferSource(Buffer.from("\x80\x02cevil.mod\nThing\n.", "latin1")));
    expect(imported.issues.map((i) => [i.severity, i.rule])).toEqual([["medium", "pickle.unknown-import"]]);
    const called = scanPickle(bufferSource(Buffer.from("\x80\x02cevil.mod\nThing\n)R.", "latin1")));
    expect(called.issues.map((i) => [i.severity, i.rule])).toEqual([["high", "pickle.unsafe-call"]]);
    const ok = pk("import numpy as np\nsys.stdout.buffer.write(pickle.dumps({'a': np.arange(3), 'o': collections.OrderedDict(x=1)}, protocol=4))");
    expect(ok.issues).toEqual([]);
    expect(ok.wellFormed).toBe(true);
  });

  it("keeps what it saw before a parse error, and scans pickles after STOP", () => {
    const broken = scanPickle(bufferSource(Buffer.from("\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R\xff\xff", "latin1")));
    expect(broken.issues.map((i) => i.rule).sort()).toEqual(["pickle.dangerous-call", "pickle.malformed"]);
    const two = Buffer.concat([
      python("import pickle,sys; sys.stdout.buffer.write(pickle.dumps([1], protocol=2))"),
      Buffer.from("cos\nsystem\n(S'id'\ntR.", "latin1"),
    ]);
    const r = scanPickle(bufferSource(two));
    expect(r.pickles).toBe(2);
    expect(r.issues.some((i) => i.rule === "pickle.dangerous-call")).toBe(true);
  });

  it("bounds hostile lengths and counts", () => {
    const huge = Buffer.concat([Buffer.from([0x80, 0x04, 0x8d]), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x40]), Buffer.from("abc")]);
    expect(scanPickle(bufferSource(huge)).issues[0]?.rule).toBe("pickle.malformed");
    const marks = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(100_000, 0x28), Buffer.from(".")]);
    const r = scanPickle(bufferSource(marks), { limits: { maxStack: 1000 } });
    expect(r.issues[0]?.evidence).toMatch(/too many MARKs/);
  });

  it("runs in time linear in the input (no quadratic paths)", () => {
    const body = (n: number) =>
      Buffer.concat([Buffer.from([0x80, 0x04, 0x5d, 0x94, 0x28]), Buffer.alloc(2 * n, 0).fill(Buffer.from([0x4b, 0x01])), Buffer.from("e.")]);
    const time = (b: Buffer) => {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        scanPickle(bufferSource(b));
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    time(body(100_000));
    const small = Math.max(1, time(body(200_000)));
    const big = time(body(1_600_000));
    expect(big / small).toBeLessThan(8 * 4); // 8× the input, well under 64× (quadratic)
  });
});

describe("globals", () => {
  it("classifies with aliases, dangerous modules and the allowlist", () => {
    expect(classifyGlobal("posix", "system")).toBe("dangerous");
    expect(classifyGlobal("__builtin__", "eval")).toBe("dangerous");
    expect(classifyGlobal("subprocess", "Popen")).toBe("dangerous");
    expect(classifyGlobal("torch._utils", "_rebuild_tensor_v2")).toBe("allowed");
    expect(classifyGlobal("torch", "BFloat16Storage")).toBe("allowed");
    expect(classifyGlobal("numpy.core.multiarray", "_reconstruct")).toBe("allowed");
    expect(classifyGlobal("sklearn.linear_model._logistic", "LogisticRegression")).toBe("allowed");
    expect(classifyGlobal("sklearn.ensemble._forest", "RandomForestClassifier")).toBe("allowed");
    expect(classifyGlobal("sklearn.utils._testing", "assert_run_python_script")).toBe("unknown");
    expect(classifyGlobal("sklearn.linear_model._base", "make_dataset")).toBe("unknown");
    expect(classifyGlobal("xgboost.core", "Booster")).toBe("unknown");
    expect(classifyGlobal("xgboost.core", "Booster", new Set(["xgboost.core.*"]))).toBe("allowed");
    expect(classifyGlobal("collections", "__builtins__")).toBe("dangerous");
    expect(classifyGlobal("joblib.numpy_pickle", "NumpyArrayWrapper")).toBe("allowed");
    expect(classifyGlobal("joblib", "load")).toBe("dangerous");
  });
});

describe("safetensors rules", () => {
  const st = (header: object, data: number, trailing = 0) => {
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return bufferSource(Buffer.concat([len, h, Buffer.alloc(data + trailing)]));
  };
  it("accepts a valid file and reports tensors", () => {
    const r = scanSafetensors(st({ a: { dtype: "F16", shape: [2, 2], data_offsets: [0, 8] }, __metadata__: { format: "pt" } }, 8));
    expect(r.issues).toEqual([]);
    expect(r.info).toEqual({ tensors: 1, metadata: { format: "pt" } });
  });
  it("flags size mismatches, gaps, trailing bytes and duplicate keys", () => {
    expect(scanSafetensors(st({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8)).issues[0]?.message).toMatch(/is 12 bytes but its offsets span 8/);
    expect(scanSafetensors(st({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8)).issues[0]?.message).toMatch(/gap/);
    const trailing = scanSafetensors(st({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, 4, 100)).issues;
    expect(trailing.map((i) => [i.severity, i.rule])).toEqual([["high", "safetensors.trailing-bytes"]]);
    expect(topLevelKeys('{"a": {"x": "a"}, "b": 1, "a": 2}')).toEqual(["a", "b", "a"]);
  });
});

describe("GGUF", () => {
  it("reads a real GGUF (the tiny test model) without findings and takes its facts", async () => {
    const file = await makeTinyGguf();
    const size = readFileSync(file).length;
    const src = new FileSource(file, size);
    const r = scanGguf(src);
    src.close();
    expect(r.issues).toEqual([]);
    expect(r.facts.architecture).toBe("llama");
    expect(r.tensors).toBeGreaterThan(5);
  });
});

describe("chat templates", () => {
  it("passes realistic templates (namespace, tools, tojson, loop controls)", () => {
    const qwenLike = `{%- if tools %}{{- '<|im_start|>system\\n' }}{%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}{{- '<|im_end|>\\n' }}{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{%- if ns.multi_step_tool and message.role == "user" %}{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}
{%- for message in messages %}{%- if message.content is string %}{%- set content = message.content %}{%- else %}{%- set content = '' %}{%- endif %}
{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}`;
    expect(analyseChatTemplate(qwenLike, "t")).toEqual([]);
    const llamaLike = `{{- bos_token }}{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = "" %}{%- endif %}{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}{{- system_message }}{{- "<|eot_id|>" }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}`;
    expect(analyseChatTemplate(llamaLike, "t")).toEqual([]);
  });
  it("flags sandbox escapes, gadgets, attr and imports", () => {
    const rules = (t: string) => analyseChatTemplate(t, "t").map((i) => `${i.severity}:${i.rule}`);
    expect(rules("{{ ''.__class__.__mro__[1].__subclasses__() }}")).toContain("critical:template.sandbox-escape");
    expect(rules("{{ cycler.__init__.__globals__.os }}")).toEqual(expect.arrayContaining(["high:template.gadget", "critical:template.sandbox-escape"]));
    expect(rules("{{ x|attr('y') }}")).toContain("high:template.attr-filter");
    expect(rules("{% import 'x' as y %}")).toContain("high:template.import");
  });
});

describe("licenses", () => {
  it("fingerprints texts, prefers the text over the card, flags disagreement", () => {
    expect(fingerprint("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024")?.id).toBe("llama3.1");
    expect(
      fingerprint(
        "Permission is hereby granted, free of charge, to any person ... The above copyright notice and this permission notice shall be included ... Our only modification part is that ... Kimi K2",
      )?.id,
    ).toBe("kimi-modified-mit");
    const r = classifyLicense({ cardLicense: "apache-2.0", licenseText: { file: "LICENSE", text: "Qwen RESEARCH LICENSE AGREEMENT ..." } });
    expect(r.report.id).toBe("qwen-research");
    expect(r.report.commercial).toBe("no");
    expect(r.issues.map((i) => i.rule)).toEqual(["license.mismatch"]);
    const llama = classifyLicense({ cardLicense: "llama3.1" }).report;
    expect(llama.userThreshold?.monthlyActiveUsers).toBe(700_000_000);
  });
});
