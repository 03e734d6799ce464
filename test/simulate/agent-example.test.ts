/**
 * The example agent suite end to end against simulated models, through both wire formats: a model
 * simulated at accuracy 1 passes every case (calls, arguments, sequences over mocks, scripted turns)
 * over the OpenAI-compatible and the Anthropic provider alike; at accuracy 0 it fails the tool cases.
 */
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { loadSuite } from "../../src/config/suite.js";
import { evaluate } from "../../src/evaluate/session.js";
import { packagePath } from "../../src/util/package-root.js";
import { tempDir, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  delete process.env.WB_TEST_ANTHROPIC_KEY;
});

it("passes the example agent suite at accuracy 1 over OpenAI-compatible and Anthropic, and fails it at 0", async () => {
  const suiteFile = packagePath("examples", "support", "agent.yaml");
  const suite = loadSuite(suiteFile);
  const right = await startStub({ behaviour: behaviourFor([suite], 1, 5) });
  const wrong = await startStub({
    behaviour: behaviourFor([suite], 0, 5, { toolErrors: { wrongTool: 0, wrongArgument: 0, asText: 1, noCall: 0, badJson: 0 } }),
  });
  open.push(right, wrong);
  process.env.WB_TEST_ANTHROPIC_KEY = "test";
  const dir = tempDir();
  writeFiles(dir, {
    "weightbridge.yaml": `models:
  - { id: oa, provider: openai-compatible, baseUrl: ${right.baseUrl}, model: x }
  - { id: an, provider: anthropic, baseUrl: ${right.url}, model: x, apiKeyEnv: WB_TEST_ANTHROPIC_KEY }
  - { id: an-wrong, provider: anthropic, baseUrl: ${wrong.url}, model: x, apiKeyEnv: WB_TEST_ANTHROPIC_KEY }
suites: [${suiteFile}]
`,
  });
  const r = await evaluate({ config: join(dir, "weightbridge.yaml") });
  expect(r.outcome.errors).toBe(0);
  const [oa, an, bad] = r.summary.suites[0]?.models ?? [];
  expect(oa?.score.mean).toBe(1);
  expect(an?.score.mean).toBe(1);
  expect(an?.toolCalls).toMatchObject({
    answersWithCall: oa?.toolCalls?.answersWithCall,
    calls: oa?.toolCalls?.calls,
    callsValid: oa?.toolCalls?.calls,
    asTextAnswers: 0,
  });
  // At accuracy 0 every case with an expected call writes it as text; the text-only cases answer wrong too.
  const byCase = new Map(r.results.filter((x) => x.modelId === "an-wrong").map((x) => [x.caseIndex, x]));
  const toolCases = suite.cases.filter((c) => c.expects.some((e) => e.type === "tool-sequence" || (e.type === "tool-call" && !e.none)));
  for (const c of toolCases) expect(byCase.get(c.index)?.passed, c.id).toBe(false);
  expect(bad?.toolCalls?.asTextAnswers).toBe(toolCases.length);
});
