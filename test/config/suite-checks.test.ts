/** Suites that would silently measure nothing are refused at load, with file:line (issue 16, points 1, 5, 9). */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { userErrorOf } from "../support/errors.js";
import { tempDir, writeFiles } from "../support/project.js";

const CONFIG = (id = "gpt-4o", suite = "suite.yaml") => `models:
  - id: ${id}
    provider: openai-compatible
    baseUrl: http://127.0.0.1:8001/v1
    model: gpt-4o
baseline: ${id}
suites: [${suite}]
`;

function load(suite: string, config = CONFIG()) {
  const dir = tempDir();
  writeFiles(dir, { "weightbridge.yaml": config, "suite.yaml": suite });
  return loadProject(join(dir, "weightbridge.yaml"));
}

describe("suite templates", () => {
  it("fills variables with non-ASCII names", () => {
    const p = load(`name: 工单
prompt: "{{消息}} / {{ café }} / {{données.clé}}"
cases:
  - vars: { 消息: "包裹在哪里？", café: "noir", données: { clé: 7 } }
    expect: { type: contains, value: x }
`);
    expect(p.suites[0]?.name).toBe("工单");
    expect(p.suites[0]?.cases[0]?.messages.at(-1)?.content).toBe("包裹在哪里？ / noir / 7");
  });

  it("a missing non-ASCII variable is an error naming it", () => {
    const e = userErrorOf(() => load(`name: s\nprompt: "{{消息}}"\ncases:\n  - vars: { other: 1 }\n    expect: { type: contains, value: x }\n`));
    expect(e.message).toMatch(/suite\.yaml:4: case uses \{\{消息\}\}/);
  });

  it("a {{…}} that is not a variable reference is refused with its line", () => {
    const e = userErrorOf(() =>
      load(`name: s\nsystem: "ok"\nprompt: "Hello {{ first name }}"\ncases:\n  - vars: {}\n    expect: { type: contains, value: x }\n`),
    );
    expect(e.message).toMatch(/suite\.yaml:3: \{\{ first name \}\} in the user template is not a variable reference/);
    const e2 = userErrorOf(() =>
      load(
        `name: s\nmessages:\n  - role: system\n    content: "{{}}"\n  - role: user\n    content: hi\ncases:\n  - vars: {}\n    expect: { type: contains, value: x }\n`,
      ),
    );
    expect(e2.message).toMatch(/suite\.yaml:4: \{\{\}\} in the system template/);
  });

  it("model ids in any script are accepted", () => {
    const p = load(`name: s\nprompt: hi\ncases:\n  - expect: { type: contains, value: x }\n`, CONFIG("通义千问-7b"));
    expect(p.models[0]?.id).toBe("通义千问-7b");
  });
});

describe("grader definitions are checked at load", () => {
  it("a broken regex names file:line", () => {
    const e = userErrorOf(() =>
      load(
        `name: s\nprompt: hi\ncases:\n  - vars: {}\n    expect: { type: contains, value: x }\n  - vars: {}\n    expect: { type: regex, pattern: "([a-z]" }\n`,
      ),
    );
    expect(e.message).toMatch(/suite\.yaml:6: regex expectation: invalid pattern/);
    expect(e.hint).toBeTruthy();
  });

  it("an invalid JSON schema names file:line", () => {
    const e = userErrorOf(() => load(`name: s\nprompt: hi\ncases:\n  - vars: {}\n    expect: { type: json-schema, schema: { type: banana } }\n`));
    expect(e.message).toMatch(/suite\.yaml:4: json-schema expectation: the schema is not valid/);
  });

  it("an empty label is refused", () => {
    const e = userErrorOf(() => load(`name: s\nprompt: hi\ncases:\n  - vars: {}\n    expect: { type: label, value: "  " }\n`));
    expect(e.message).toMatch(/suite\.yaml:4: label expectation has an empty label/);
  });

  it("a bad definition in a JSONL case file names that file and line", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": CONFIG(),
      "suite.yaml": "name: s\nprompt: hi\ncases:\n  - file: cases.jsonl\n",
      "cases.jsonl": '{"expect": {"type": "contains", "value": "a"}}\n{"expect": {"type": "regex", "pattern": "*"}}\n',
    });
    const e = userErrorOf(() => loadProject(join(dir, "weightbridge.yaml")));
    expect(e.message).toMatch(/cases\.jsonl:2: regex expectation/);
  });
});
