/** The report shows tool-call fidelity beside the score on suites with tools, in markdown and HTML. */
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { evaluate } from "../../src/evaluate/session.js";
import { buildReport, renderHtml, renderMarkdown } from "../../src/report/index.js";
import { openStore } from "../../src/store/index.js";
import { startAgentUpstream } from "../support/agent-upstream.js";
import { tempDir, writeFiles } from "../support/project.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

it("has a Tool calls table per suite with tools, and the parser hint for calls written as text", async () => {
  const good = await startAgentUpstream();
  const texty = await startAgentUpstream({ mode: "text-call" });
  closers.push(good.close, texty.close);
  const dir = tempDir();
  const cases = Array.from(
    { length: 4 },
    (_, i) => `  - vars: { i: ${i} }\n    expect: { type: tool-call, name: get_order_status, arguments: { order_id: "${i}" } }`,
  );
  writeFiles(dir, {
    "suite.yaml": `name: orders\ntools:\n  - { type: function, function: { name: get_order_status } }\nprompt: "Where is order {{i}}?"\ncases:\n${cases.join("\n")}\n`,
    "plain.yaml": 'name: plain\nprompt: "Hi {{i}}"\ncases:\n  - vars: { i: 1 }\n    expect: { type: contains, value: reply }\n',
    "weightbridge.yaml": `models:\n  - { id: base, provider: openai-compatible, baseUrl: ${good.baseUrl}, model: x }\n  - { id: cand, provider: openai-compatible, baseUrl: ${texty.baseUrl}, model: y }\nbaseline: base\nsuites: [suite.yaml, plain.yaml]\n`,
  });
  const r = await evaluate({ config: join(dir, "weightbridge.yaml") });
  const store = await openStore(r.storeLocation);
  closers.push(() => store.close());
  const report = await buildReport(store, r.runId);
  const md = renderMarkdown(report);
  const orders = md.slice(md.indexOf("## Suite orders"), md.indexOf("## Suite plain"));
  expect(orders).toContain("| model | answers | with a call | well-formed | args JSON | args valid | calls as text |");
  expect(orders).toContain("| base | 4 | 100.0% | 100.0% | 100.0% | 100.0% | 0.0% |");
  expect(orders).toContain("| cand | 4 | 0.0% | — | — | — | 100.0% (hermes 4) |");
  expect(orders).toMatch(/> cand: the server returned tool calls as text: enable its tool parser \(vLLM: --enable-auto-tool-choice --tool-call-parser hermes/);
  // A suite without tools has no such table.
  expect(md.slice(md.indexOf("## Suite plain"))).not.toContain("Tool calls:");
  const html = renderHtml(report);
  expect(html).toContain("<h3>Tool calls</h3>");
  expect(html).toMatch(/<td>cand<\/td><td class="num">4<\/td><td class="num">0\.0%<\/td>/);
});
