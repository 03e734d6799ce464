/**
 * Suite cases read from row files (issue 20, Datasets): CSV/TSV through csv-parse, JSONL, Parquet
 * written by an independent writer. Hostile input first: quotes and line breaks in fields, a BOM, a
 * ragged row, a stray quote, a formula-looking cell, a JSONL line that is not an object, a file
 * that is not Parquet, a footer claiming 1 GB. Every bad row is an error naming file:line.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pickRows } from "../../src/config/datasets/sample.js";
import { loadProjectAsync } from "../../src/config/project.js";
import { loadSuite, loadSuiteAsync } from "../../src/config/suite.js";
import { seededRng } from "../../src/stats/rng.js";
import { UserError } from "../../src/util/errors.js";
import { userErrorOf } from "../support/errors.js";
import { parquetBytes, qaColumns, writeParquet } from "../support/parquet.js";
import { tempDir, writeFiles } from "../support/project.js";

const LABEL_SUITE = `name: tickets
prompt: "Ticket: {{message}}"
cases:
  - file: tickets.csv
    expect: { type: label, value: "{{expected}}" }
`;

function suiteWith(files: Record<string, string | Buffer>, suite = LABEL_SUITE): string {
  const dir = tempDir();
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  writeFiles(dir, { "suite.yaml": suite });
  return join(dir, "suite.yaml");
}

async function asyncError(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof UserError) return e;
  throw e ?? new Error("expected a UserError");
}

describe("CSV and TSV rows", () => {
  it("reads RFC 4180 fields verbatim: quotes, doubled quotes, line breaks, a BOM, a formula-looking cell", () => {
    const csv = '\uFEFFmessage,expected\r\n"Hello, I was ""charged"" twice",billing\r\n"line one\nline two",shipping\r\n"=HYPERLINK(""http://x"")",other\r\n';
    const file = suiteWith({ "tickets.csv": csv });
    const s = loadSuite(file);
    expect(s.cases.map((c) => c.vars)).toEqual([
      { message: 'Hello, I was "charged" twice', expected: "billing" },
      { message: "line one\nline two", expected: "shipping" },
      { message: '=HYPERLINK("http://x")', expected: "other" },
    ]);
    // The BOM did not leak into the first column's name, the expectation was rendered from the row.
    expect(s.cases.map((c) => c.expects)).toEqual([
      [{ type: "label", value: "billing" }],
      [{ type: "label", value: "shipping" }],
      [{ type: "label", value: "other" }],
    ]);
    expect(s.cases[1]?.messages).toEqual([{ role: "user", content: "Ticket: line one\nline two" }]);
    // Each case names the line its record starts on (the quoted line break moves the third record to line 5).
    const csvPath = join(file, "..", "tickets.csv");
    expect(s.cases.map((c) => c.source)).toEqual([`${csvPath}:2`, `${csvPath}:3`, `${csvPath}:5`]);
    expect(s.datasets).toEqual([
      { kind: "file", path: "tickets.csv", format: "csv", sha256: createHash("sha256").update(csv).digest("hex"), rows: 3, used: 3 },
    ]);
  });

  it("a ragged row is an error at its line, never skipped", () => {
    const file = suiteWith({ "tickets.csv": "message,expected\nfine,billing\nno label here\nalso fine,other\n" });
    const e = userErrorOf(() => loadSuite(file));
    expect(e.message).toMatch(/tickets\.csv:3: /);
    expect(e.message).toMatch(/columns length is 2, got 1/);
    expect(e.hint).toMatch(/as many fields as the header/);
  });

  it("a stray quote and an unclosed quote are errors at their lines", () => {
    const stray = userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": 'message,expected\nok,billing\nsays 5" tall,other\n' })));
    expect(stray.message).toMatch(/tickets\.csv:3: Invalid Opening Quote/);
    const open = userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": 'message,expected\n"never closed,billing\n' })));
    expect(open.message).toMatch(/tickets\.csv:2: Quote Not Closed/);
  });

  it("a missing column, a duplicate or empty header name, and bytes that are not UTF-8 are errors with file:line", () => {
    const missing = userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "message,label\nhi,billing\n" })));
    expect(missing.message).toMatch(/tickets\.csv:2: no column "expected", which the expect of the entry at .*suite\.yaml:4 uses/);
    expect(missing.hint).toMatch(/columns here: message, label/);
    const inPrompt = userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "text,expected\nhi,billing\n" })));
    expect(inPrompt.message).toMatch(/tickets\.csv:2: case uses \{\{message\}\}/);
    expect(userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "message,message\na,b\n" }))).message).toMatch(
      /tickets\.csv:1: column "message" appears twice/,
    );
    expect(userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "message,,expected\na,b,c\n" }))).message).toMatch(/tickets\.csv:1: column 2 .* has no name/);
    const latin1 = Buffer.concat([Buffer.from("message,expected\nok,billing\ncaf"), Buffer.from([0xe9]), Buffer.from(",other\n")]);
    expect(userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": latin1 }))).message).toMatch(/tickets\.csv:3: not valid UTF-8/);
  });

  it("reads TSV by extension or by format:, and a header-only file is an error", () => {
    const tsvSuite = LABEL_SUITE.replace("tickets.csv", "tickets.tsv");
    const s = loadSuite(suiteWith({ "tickets.tsv": "message\texpected\nhello, world\tbilling\n" }, tsvSuite));
    expect(s.cases[0]?.vars).toEqual({ message: "hello, world", expected: "billing" });
    const viaFormat = LABEL_SUITE.replace("file: tickets.csv", "file: tickets.txt\n    format: tsv");
    expect(loadSuite(suiteWith({ "tickets.txt": "message\texpected\na\tb\n" }, viaFormat)).cases).toHaveLength(1);
    expect(userErrorOf(() => loadSuite(suiteWith({ "tickets.txt": "x" }, LABEL_SUITE.replace("tickets.csv", "tickets.txt")))).hint).toMatch(/format: csv/);
    expect(userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "message,expected\n" }))).message).toMatch(/tickets\.csv: no rows/);
  });

  it("the entry's fields apply to every row: templated id, vars, tags; entry vars may not shadow a column", () => {
    const suite = `name: t
prompt: "[{{lang}}] {{message}}"
cases:
  - file: tickets.csv
    id: "ticket-{{ticket}}"
    vars: { lang: en }
    tags: [imported]
    expect: [{ type: label, value: "{{expected}}" }, { type: contains, value: "{{expected}}" }]
`;
    const s = loadSuite(suiteWith({ "tickets.csv": "ticket,message,expected\n17,hi,billing\n18,yo,other\n" }, suite));
    expect(s.cases.map((c) => c.id)).toEqual(["ticket-17", "ticket-18"]);
    expect(s.cases[1]).toMatchObject({
      tags: ["imported"],
      messages: [{ role: "user", content: "[en] yo" }],
      expects: [{ value: "other" }, { value: "other" }],
    });
    const clash = suite.replace("lang: en", "message: fixed");
    expect(userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "ticket,message,expected\n17,hi,billing\n" }, clash))).message).toMatch(
      /tickets\.csv:2: "message" is both a column of this row and a var of the entry at .*suite\.yaml:4/,
    );
    const dup = userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "ticket,message,expected\n17,hi,billing\n17,yo,other\n" }, suite)));
    expect(dup.message).toMatch(/tickets\.csv:3: duplicate case id "ticket-17"/);
  });

  it("a number expectation accepts numeric text from a CSV cell and refuses other text at the row", () => {
    const suite = `name: n
prompt: "{{q}}"
cases:
  - file: sums.csv
    expect: { type: number, value: "{{a}}", tolerance: "{{tol}}" }
`;
    const s = loadSuite(suiteWith({ "sums.csv": "q,a,tol\n1+1,2,0\nhalf,0.5,1e-3\n" }, suite));
    expect(s.cases.map((c) => c.expects[0])).toEqual([
      { type: "number", value: 2, tolerance: 0 },
      { type: "number", value: 0.5, tolerance: 0.001 },
    ]);
    const bad = userErrorOf(() => loadSuite(suiteWith({ "sums.csv": "q,a,tol\n1+1,2,0\nx,two,0\n" }, suite)));
    expect(bad.message).toMatch(/sums\.csv:3: the expectation rendered from this row is not valid \(value: /);
  });

  it("an entry without expect, an unknown expect type and a misspelled key are errors at the suite's line", () => {
    const noExpect = LABEL_SUITE.replace('    expect: { type: label, value: "{{expected}}" }\n', "    limit: 2\n");
    expect(userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "message,expected\na,b\n" }, noExpect))).message).toMatch(
      /suite\.yaml:4: a file or hf entry needs an expect/,
    );
    const badType = LABEL_SUITE.replace("type: label", "type: lable");
    expect(userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "message,expected\na,b\n" }, badType))).message).toMatch(/suite\.yaml:5/);
    const typo = LABEL_SUITE.replace("  - file: tickets.csv\n", "  - file: tickets.csv\n    limt: 2\n");
    const e = userErrorOf(() => loadSuite(suiteWith({ "tickets.csv": "message,expected\na,b\n" }, typo)));
    expect(e.message).toMatch(/suite\.yaml:5: .*unknown key "limt"/);
    expect(e.hint).toMatch(/did you mean "limit"/);
  });
});

describe("JSONL rows", () => {
  const suite = `name: qa
prompt: "{{question}}"
cases:
  - file: qa.jsonl
    expect: { type: equals, value: "{{answer}}" }
`;

  it("reads one object per line, keeps types, and templates a whole-field placeholder with its type", () => {
    const s = loadSuite(
      suiteWith(
        { "qa.jsonl": '\uFEFF{"question": "2+2?", "answer": 4}\n\n{"question": "capital of France?", "answer": "Paris", "meta": {"src": "x"}}\n' },
        suite,
      ),
    );
    expect(s.cases.map((c) => c.expects[0])).toEqual([
      { type: "equals", value: 4 },
      { type: "equals", value: "Paris" },
    ]);
    expect(s.cases[1]?.vars.meta).toEqual({ src: "x" });
    expect(s.cases[1]?.source).toMatch(/qa\.jsonl:3$/);
  });

  it("a line that is not JSON, or JSON that is not an object, is an error at its line", () => {
    const notJson = userErrorOf(() => loadSuite(suiteWith({ "qa.jsonl": '{"question": "a", "answer": "b"}\n{"question": "a",\n' }, suite)));
    expect(notJson.message).toMatch(/qa\.jsonl:2: not valid JSON/);
    for (const [line, kind] of [
      ['["a", "b"]', "array"],
      ['"just text"', "string"],
      ["null", "null"],
      ["42", "number"],
    ])
      expect(userErrorOf(() => loadSuite(suiteWith({ "qa.jsonl": `{"question": "a", "answer": "b"}\n${line}\n` }, suite))).message).toMatch(
        new RegExp(`qa\\.jsonl:2: the line is JSON ${kind}, not an object`),
      );
    const withVars = suite.replace("  - file: qa.jsonl\n", "  - file: qa.jsonl\n    vars: { source: faq }\n");
    const clash = userErrorOf(() =>
      loadSuite(suiteWith({ "qa.jsonl": '{"question": "a", "answer": "b"}\n{"question": "c", "answer": "d", "source": "x"}\n' }, withVars)),
    );
    expect(clash.message).toMatch(/qa\.jsonl:2: "source" is both a column of this row and a var of the entry/);
    const nullCell = userErrorOf(() => loadSuite(suiteWith({ "qa.jsonl": '{"question": "a", "answer": null}\n' }, suite)));
    expect(nullCell.message).toMatch(/qa\.jsonl:1: column "answer" is empty \(null\)/);
  });

  it("a __proto__ key is plain data and a template cannot reach inherited properties", () => {
    const s = loadSuite(suiteWith({ "qa.jsonl": '{"__proto__": {"polluted": 1}, "question": "q", "answer": "a"}\n' }, suite));
    expect(Object.hasOwn(s.cases[0]?.vars ?? {}, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const reach = suite.replace('"{{answer}}"', '"{{constructor}}"');
    expect(userErrorOf(() => loadSuite(suiteWith({ "qa.jsonl": '{"question": "q", "answer": "a"}\n' }, reach))).message).toMatch(/no column "constructor"/);
  });

  it("a { file: cases.jsonl } entry alone still reads whole case objects", () => {
    const s = loadSuite(
      suiteWith(
        { "cases.jsonl": '{"vars": {"question": "q"}, "expect": {"type": "equals", "value": "a"}}\n' },
        "name: c\nprompt: '{{question}}'\ncases:\n  - file: cases.jsonl\n",
      ),
    );
    expect(s.cases[0]).toMatchObject({ vars: { question: "q" }, expects: [{ type: "equals", value: "a" }] });
    expect(s.datasets).toBeUndefined();
  });
});

describe("Parquet rows", () => {
  const suite = `name: pq
cases:
  - file: qa.parquet
    prompt: "{{question}}"
    expect: { type: equals, value: "{{answer}}" }
`;

  it("reads a real Parquet file across row groups (snappy and gzip), int64 as numbers", async () => {
    for (const codec of ["SNAPPY", "GZIP"] as const) {
      const dir = tempDir();
      const bytes = writeParquet(join(dir, "qa.parquet"), qaColumns(2500), { rowGroupSize: 1000, codec });
      writeFiles(dir, { "suite.yaml": suite });
      const s = await loadSuiteAsync(join(dir, "suite.yaml"));
      expect(s.cases).toHaveLength(2500);
      expect(s.cases[1700]).toMatchObject({
        vars: { id: 1700, question: "What is 1700 plus one?", answer: "1701" },
        expects: [{ type: "equals", value: "1701" }],
      });
      expect(s.cases[1700]?.source).toBe(`${join(dir, "qa.parquet")}#row 1701`);
      expect(s.datasets?.[0]).toEqual({
        kind: "file",
        path: "qa.parquet",
        format: "parquet",
        sha256: createHash("sha256").update(bytes).digest("hex"),
        rows: 2500,
        used: 2500,
      });
    }
  });

  it("limit + seed sample the same rows every time, different from the head and from another seed", async () => {
    const dir = tempDir();
    writeParquet(join(dir, "qa.parquet"), qaColumns(3000), { rowGroupSize: 700 });
    const at = (limit: string) => {
      writeFiles(dir, { "suite.yaml": suite.replace("  - file: qa.parquet\n", `  - file: qa.parquet\n${limit}`) });
      return loadSuiteAsync(join(dir, "suite.yaml"));
    };
    const ids = (s: Awaited<ReturnType<typeof at>>) => s.cases.map((c) => c.vars.id as number);
    const a = ids(await at("    limit: 50\n    seed: 1\n"));
    const b = ids(await at("    limit: 50\n    seed: 1\n"));
    const c = ids(await at("    limit: 50\n    seed: 2\n"));
    const head = ids(await at("    limit: 50\n"));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(50);
    expect(a).toEqual([...a].sort((x, y) => x - y));
    expect(a).not.toEqual(c);
    expect(head).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).toEqual(pickRows(3000, 50, 1));
    expect(Math.max(...a)).toBeGreaterThan(1400); // drawn from the whole file, not its first row group
  });

  it("a file that is not Parquet, a footer claiming 1 GB and a truncated file are one-line errors naming the file", async () => {
    const dir = tempDir();
    writeFiles(dir, { "suite.yaml": suite });
    const file = join(dir, "qa.parquet");
    writeFileSync(file, "question,answer\na,b\n");
    expect((await asyncError(loadSuiteAsync(join(dir, "suite.yaml")))).message).toBe(
      `${file}: not a readable Parquet file (no PAR1 magic at its start and end)`,
    );
    const claim = Buffer.alloc(1024);
    claim.write("PAR1", 0);
    claim.writeUInt32LE(1_000_000_000, 1024 - 8);
    claim.write("PAR1", 1024 - 4);
    writeFileSync(file, claim);
    expect((await asyncError(loadSuiteAsync(join(dir, "suite.yaml")))).message).toMatch(
      /footer claims 1000000000 bytes of metadata, but the file has 1024 bytes/,
    );
    const good = writeParquet(file, qaColumns(100));
    writeFileSync(file, Buffer.concat([good.subarray(0, 40), good.subarray(good.length - 200)]));
    expect((await asyncError(loadSuiteAsync(join(dir, "suite.yaml")))).message).toMatch(/qa\.parquet: not a readable Parquet file/);
    const zero = Buffer.from(good);
    zero.fill(0xff, 4, good.length - 300); // pages and part of the footer garbled
    writeFileSync(file, zero);
    expect((await asyncError(loadSuiteAsync(join(dir, "suite.yaml")))).message).toMatch(/qa\.parquet: (not a readable Parquet file|a Parquet page claims)/);
  });

  it("pages whose counts would hold the process (an RLE run claiming billions of values) are stopped at a time limit", async () => {
    // A real file with a few bytes changed (found by fuzzing): hyparquet trusts the run length inside a
    // page and would loop for hours on the main thread; decoding runs on a worker with a time limit.
    const bytes = parquetBytes(qaColumns(300), { rowGroupSize: 100 });
    const rng = seededRng(1022);
    const n = 1 + Math.floor(rng() * 8);
    for (let k = 0; k < n; k++) bytes[Math.floor(rng() * bytes.length)] = Math.floor(rng() * 256);
    const dir = tempDir();
    writeFileSync(join(dir, "qa.parquet"), bytes);
    writeFiles(dir, { "suite.yaml": suite });
    process.env.WEIGHTBRIDGE_PARQUET_TIMEOUT = "2";
    const t0 = Date.now();
    try {
      const e = await asyncError(loadSuiteAsync(join(dir, "suite.yaml")));
      expect(e.message).toBe(`${join(dir, "qa.parquet")}: decoding the Parquet rows took longer than 2 s and was stopped`);
      expect(e.hint).toMatch(/WEIGHTBRIDGE_PARQUET_TIMEOUT/);
    } finally {
      delete process.env.WEIGHTBRIDGE_PARQUET_TIMEOUT;
    }
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("a missing column is an error at file#row; a synchronous load refuses Parquet with a clear error", async () => {
    const dir = tempDir();
    writeParquet(join(dir, "qa.parquet"), [{ name: "question", data: ["a", "b"], type: "STRING" }]);
    writeFiles(dir, { "suite.yaml": suite });
    expect((await asyncError(loadSuiteAsync(join(dir, "suite.yaml")))).message).toMatch(/qa\.parquet#row 1: no column "answer"/);
    expect(userErrorOf(() => loadSuite(join(dir, "suite.yaml"))).message).toMatch(/suite\.yaml:3: Parquet files and hf: datasets are read by eval, validate/);
  });
});

describe("examples/datasets", () => {
  it("loads: CSV (with a quoted line break and a formula-looking cell), JSONL with its own prompt, a seeded Parquet sample", async () => {
    const p = await loadProjectAsync(fileURLToPath(new URL("../../examples/datasets/weightbridge.yaml", import.meta.url)));
    const s = p.suites[0];
    expect(s?.cases).toHaveLength(8 + 3 + 5);
    expect(s?.cases[2]).toMatchObject({ id: "T-1003", vars: { message: "Hi,\nI can't log in since the password reset.\nThanks" } });
    expect(s?.cases[5]?.vars.message).toBe('=HYPERLINK("http://example.com") please check this link about my invoice');
    expect(s?.cases[8]?.messages[0]).toEqual({ role: "system", content: "Answer the customer's question with the number or code only." });
    expect(s?.cases[8]).toMatchObject({ group: "returns", expects: [{ type: "contains", value: "30" }] });
    expect(s?.cases.slice(11).map((c) => c.expects[0])).toEqual(s?.cases.slice(11).map((c) => ({ type: "number", value: c.vars.result })));
    expect(s?.datasets?.map((d) => d.kind === "file" && [d.path, d.rows, d.used])).toEqual([
      ["data/tickets.csv", 8, 8],
      ["data/faq.jsonl", 3, 3],
      ["data/arith.parquet", 8, 5],
    ]);
  });
});

describe("row sampling", () => {
  it("is a sorted draw without replacement, the head without a seed, everything when limit covers it", () => {
    const a = pickRows(1_000_000, 1000, 7);
    expect(new Set(a).size).toBe(1000);
    expect(a.every((x, i) => x >= 0 && x < 1_000_000 && (i === 0 || x > (a[i - 1] as number)))).toBe(true);
    expect(pickRows(1_000_000, 1000, 7)).toEqual(a);
    expect(pickRows(10, 3, undefined)).toEqual([0, 1, 2]);
    expect(pickRows(10, 50, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Each row equally likely: over many seeds, the first and the last tenth are drawn about as often.
    let low = 0;
    let high = 0;
    for (let seed = 0; seed < 400; seed++)
      for (const x of pickRows(100, 10, seed)) {
        if (x < 10) low++;
        if (x >= 90) high++;
      }
    expect(Math.abs(low - high)).toBeLessThan(120);
    expect(low + high).toBeGreaterThan(600);
  });
});
