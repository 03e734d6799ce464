/**
 * A hostile suite or data file against `file:` entries: paths that leave the suite's folder
 * (absolute, `../`, a symlink pointing out, a NUL byte), JSONL nested deep enough to overflow the
 * stack of whatever serialises the case later, `{{…}}` inside a cell (data, never rendered again),
 * a record larger than the CSV record limit, and out-of-range limit/seed. Each is a one-line
 * UserError at file:line or plain data.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSuite, loadSuiteAsync } from "../../src/config/suite.js";
import { UserError } from "../../src/util/errors.js";
import { userErrorOf } from "../support/errors.js";
import { claimRows, parquetBytes, qaColumns } from "../support/parquet.js";
import { tempDir, writeFiles } from "../support/project.js";

const rowSuite = (file: string, extra = "") => `name: qa
prompt: "{{question}}"
cases:
  - file: ${JSON.stringify(file)}
${extra}    expect: { type: equals, value: "{{answer}}" }
`;

/** A project folder with a `secret.csv` beside (not inside) the suite's folder `suite/`. */
function layout(suite: string, files: Record<string, string> = {}): { root: string; suiteFile: string } {
  const root = tempDir();
  writeFileSync(join(root, "secret.csv"), "question,answer\nroot password?,hunter2\n");
  mkdirSync(join(root, "suite"));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(root, "suite", name), body);
  writeFiles(join(root, "suite"), { "suite.yaml": suite });
  return { root, suiteFile: join(root, "suite", "suite.yaml") };
}

describe("data files stay inside the suite's folder", () => {
  it("refuses ../ and an absolute path to a readable file outside it", () => {
    const up = layout(rowSuite("../secret.csv"));
    expect(userErrorOf(() => loadSuite(up.suiteFile)).message).toMatch(/secret\.csv.* is outside the suite's folder/);
    const abs = layout(rowSuite("/etc/passwd", "    format: csv\n"));
    expect(userErrorOf(() => loadSuite(abs.suiteFile)).message).toMatch(/\/etc\/passwd.* is outside the suite's folder/);
  });

  it("refuses a symlink inside the folder that points out, for row files and whole-case JSONL files", () => {
    const rows = layout(rowSuite("data.csv"));
    symlinkSync(join(rows.root, "secret.csv"), join(rows.root, "suite", "data.csv"));
    expect(userErrorOf(() => loadSuite(rows.suiteFile)).message).toMatch(/data\.csv.* is outside the suite's folder/);
    const cases = layout("name: qa\nprompt: '{{q}}'\ncases:\n  - file: cases.jsonl\n");
    writeFileSync(join(cases.root, "outside.jsonl"), '{"vars": {"q": "x"}, "expect": {"type": "equals", "value": "x"}}\n');
    symlinkSync(join(cases.root, "outside.jsonl"), join(cases.root, "suite", "cases.jsonl"));
    expect(userErrorOf(() => loadSuite(cases.suiteFile)).message).toMatch(/cases\.jsonl.* is outside the suite's folder/);
  });

  it("still reads a file in a subfolder, and a symlink that stays inside", () => {
    const ok = layout(rowSuite("data/qa.csv"));
    mkdirSync(join(ok.root, "suite", "data"));
    writeFileSync(join(ok.root, "suite", "data", "qa.csv"), "question,answer\nq,a\n");
    symlinkSync(join(ok.root, "suite", "data", "qa.csv"), join(ok.root, "suite", "link.csv"));
    expect(loadSuite(ok.suiteFile).cases.map((c) => c.vars)).toEqual([{ question: "q", answer: "a" }]);
    const link = layout(rowSuite("link.csv"));
    writeFileSync(join(link.root, "suite", "real.csv"), "question,answer\nq,a\n");
    symlinkSync(join(link.root, "suite", "real.csv"), join(link.root, "suite", "link.csv"));
    expect(loadSuite(link.suiteFile).cases).toHaveLength(1);
  });

  it("a NUL byte in the path is a one-line error, not a stack trace", () => {
    const { suiteFile } = layout(rowSuite("qa\u0000.csv"));
    expect(userErrorOf(() => loadSuite(suiteFile)).message).not.toMatch(/\n/);
  });
});

describe("hostile rows", () => {
  it("a Parquet footer claiming 10^9 rows (row groups included) is refused before decoding", async () => {
    const { root, suiteFile } = layout(rowSuite("qa.parquet"));
    writeFileSync(join(root, "suite", "qa.parquet"), claimRows(parquetBytes(qaColumns(100)), 100, 1_000_000_000));
    const e = await loadSuiteAsync(suiteFile).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toMatch(/qa\.parquet: not a readable Parquet file \(its footer claims 1000000000 rows \(limit 10000000\)\)/);
  });

  it("a JSONL value nested 100000 deep is an error at its line (it would overflow JSON.stringify later)", () => {
    const deep = `{"question": "q", "answer": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const { suiteFile } = layout(rowSuite("qa.jsonl"), { "qa.jsonl": `{"question": "q", "answer": "a"}\n${deep}\n` });
    expect(userErrorOf(() => loadSuite(suiteFile)).message).toMatch(/qa\.jsonl:2: .*nested more than 64 levels/);
  });

  it("JSONL nested 64 deep is read", () => {
    const v = `${"[".repeat(63)}1${"]".repeat(63)}`;
    const { suiteFile } = layout(rowSuite("qa.jsonl"), { "qa.jsonl": `{"question": "q", "answer": "a", "meta": ${v}}\n` });
    expect(JSON.stringify(loadSuite(suiteFile).cases[0]?.vars.meta)).toBe(v);
  });

  it("{{…}} inside a cell is data: it is not rendered again in the prompt or the expectation", () => {
    const { suiteFile } = layout(rowSuite("qa.csv"), { "qa.csv": 'question,answer\n"say {{answer}}","{{question}} {{__proto__}}"\n' });
    const c = loadSuite(suiteFile).cases[0];
    expect(c?.messages).toEqual([{ role: "user", content: "say {{answer}}" }]);
    expect(c?.expects).toEqual([{ type: "equals", value: "{{question}} {{__proto__}}" }]);
  });

  it("a CSV record over 4 MiB (one huge line) is an error at its line, not an out-of-memory", () => {
    const { suiteFile } = layout(rowSuite("qa.csv"), { "qa.csv": `question,answer\nq,a\n${"x".repeat(5 * 2 ** 20)},a\n` });
    expect(userErrorOf(() => loadSuite(suiteFile)).message).toMatch(/qa\.csv:3: /);
  });

  for (const [extra, why] of [
    ["    limit: -1\n", /limit/],
    ["    limit: 0\n", /limit/],
    ["    limit: 100000000000\n", /limit/],
    ["    limit: 1.5\n", /limit/],
    ["    seed: 1.5\n", /seed/],
    ["    seed: -3\n", /seed/],
    ["    seed: 99999999999\n", /seed/],
  ] as const)
    it(`refuses ${extra.trim()} at the suite's line`, () => {
      const { suiteFile } = layout(rowSuite("qa.csv", extra), { "qa.csv": "question,answer\nq,a\n" });
      const e = userErrorOf(() => loadSuite(suiteFile));
      expect(e.message).toMatch(/suite\.yaml:\d+/);
      expect(e.message).toMatch(why);
    });
});
