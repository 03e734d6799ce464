/**
 * The published chat templates of the major open-weight families (test/fixtures/chat-templates,
 * copied verbatim; sources in its README) must pass: as a .jinja file and inside a real GGUF's
 * tokenizer.chat_template. The hostile samples beside them must still be caught.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildTinyGguf } from "../../src/providers/local/tiny-gguf.js";
import { analyseChatTemplate } from "../../src/vet/checks/chat-template.js";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { tempDir } from "../support/project.js";

const DIR = fileURLToPath(new URL("../fixtures/chat-templates/", import.meta.url));
const templates = readdirSync(DIR).filter((f) => f.endsWith(".jinja"));

describe("real chat templates of open-weight families", () => {
  it("covers the families the product is for", () => {
    for (const family of ["qwen2.5", "qwen3", "deepseek-v3", "deepseek-r1", "kimi-k2", "glm-4", "minimax-m2", "llama-3", "mistral", "gemma", "gpt-oss", "phi"])
      expect(
        templates.some((t) => t.startsWith(family)),
        family,
      ).toBe(true);
  });

  it.each(templates)("%s has no finding", (name) => {
    expect(analyseChatTemplate(readFileSync(join(DIR, name), "utf8"), name)).toEqual([]);
  });

  it("passes each as a .jinja file and inside a GGUF (scan verdict, no finding on the artifact)", async () => {
    const out = tempDir();
    for (const name of templates) {
      const text = readFileSync(join(DIR, name), "utf8");
      const jinja = join(out, name);
      writeFileSync(jinja, text);
      const gguf = join(out, `${name}.gguf`);
      writeFileSync(gguf, buildTinyGguf({ chatTemplate: text }));
      for (const file of [jinja, gguf]) {
        const r = await scan(file);
        expect(
          r.findings.filter((f) => atLeast(f.severity, "low")),
          file,
        ).toEqual([]);
        expect(r.verdict, file).toBe("pass");
      }
    }
  }, 60_000);
});

describe("computed subscripts", () => {
  const rules = (t: string) => analyseChatTemplate(t, "t").map((i) => `${i.severity}:${i.rule}`);
  it("integer indexing of a list is not an attribute read", () => {
    expect(rules("{% for m in messages %}{% if loop.index0 > 0 and messages[loop.index0 - 1].role == 'tool' %}x{% endif %}{% endfor %}")).toEqual([]);
    expect(rules("{{ messages[messages|length - 1].content }}")).toEqual([]);
    expect(rules("{{ messages[(messages|length) - 1]['content'] }}")).toEqual([]);
    expect(rules("{% set i = loop.index0 %}{{ messages[i + 1].role }}")).toEqual([]);
    expect(rules("{% set idx = namespace(value=-1, name='') %}{{ messages[idx.value].content }}")).toEqual([]);
  });
  it("a subscript that can produce a name is flagged", () => {
    expect(rules("{% set a = '__cla' ~ 'ss__' %}{{ messages[a] }}")).toContain("high:template.dunder-fragment");
    expect(rules("{{ messages['__cla' ~ 'ss__'] }}")).toContain("high:template.computed-attribute");
    expect(rules("{{ messages['cla' + 'ss'] }}")).toContain("high:template.computed-attribute");
    expect(rules("{{ messages[x|join] }}")).toContain("high:template.computed-attribute");
    expect(rules("{{ messages[x|string] }}")).toContain("high:template.computed-attribute");
    expect(rules("{{ messages[x ~ y] }}")).toContain("high:template.computed-attribute");
    expect(rules("{{ messages[x.replace('a', '_')] }}")).toContain("high:template.computed-attribute");
    expect(rules("{{ messages[dict(a=1)|first] }}")).toContain("high:template.computed-attribute");
    expect(rules("{{ messages[('%c' % 95) * 2] }}")).toContain("high:template.computed-attribute");
    expect(rules("{% set u = '_' * 2 %}{% set n = u ~ 'class' ~ u %}{{ messages[n] }}")).toContain("high:template.computed-attribute");
    expect(rules("{% set ns = namespace(k='') %}{% set ns.k = 'cla' ~ 'ss' %}{{ messages[ns.k] }}")).toContain("high:template.computed-attribute");
    expect(rules("{% set n %}__class__{% endset %}{{ messages[n] }}")).toContain("high:template.computed-attribute");
    expect(rules("{% set a = namespace(b=('_' * 2) ~ 'class' ~ ('_' * 2)) %}{{ messages[a.b] }}")).toContain("high:template.computed-attribute");
    expect(rules("{% macro f(x) %}{{ messages[x] }}{% endmacro %}{{ f(('_' * 2) ~ 'class' ~ ('_' * 2)) }}")).toContain("high:template.computed-attribute");
    expect(rules("{% macro f(y, x='_' * 2) %}{{ messages[x] }}{% endmacro %}{{ f(1) }}")).toContain("high:template.computed-attribute");
    expect(rules("{% macro f(i) %}{{ messages[i].role }}{% endmacro %}{{ f(loop.index0 - 1) }}{{ f(i=0) }}")).toEqual([]);
  });
});
