/**
 * A real store for the UI tests, filled the way users fill it: two `eval` runs (three models, one of
 * which answers with hostile text: a script tag, a javascript: markdown link, ANSI escapes), one
 * `redteam` run, and gateway traffic (a clean request, one blocked for an e-mail address, one with a
 * bad key) through the real gateway. All against stub servers on 127.0.0.1.
 */
import { join } from "node:path";
import { loadProject } from "../../src/config/project.js";
import { runCli } from "../support/cli.js";
import { labelSuite, tempDir, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

export const HOSTILE =
  '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> [click me](javascript:window.__xss=3) \u001b[31mRED\u001b[0m <b>bold</b>';

export interface UiFixture {
  dir: string;
  db: string;
  evalA: string;
  evalB: string;
  redteam: string;
  close(): Promise<void>;
}

const model = (id: string, url: string, price: string) =>
  `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: ${id}\n    price: ${price}\n    concurrency: 8\n`;

async function evalRun(dir: string, db: string, n: number, betaAccuracy: number, stubs: Simulator[]): Promise<string> {
  writeFiles(dir, {
    "suite.yaml": labelSuite("intent", n),
    "weightbridge.yaml": `models:\n${model("x", "http://127.0.0.1:1/v1", "{ input: 1, output: 1 }")}suites: [suite.yaml]\n`,
  });
  const suites = loadProject(join(dir, "weightbridge.yaml")).suites;
  const a = await startStub({ behaviour: behaviourFor(suites, 0.95, 1), latencyMs: 2 });
  const b = await startStub({ behaviour: behaviourFor(suites, betaAccuracy, 2), latencyMs: 1 });
  const h = await startStub({ behaviour: { mode: "script", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: HOSTILE } });
  stubs.push(a, b, h);
  writeFiles(dir, {
    "weightbridge.yaml": `models:\n${model("alpha", a.baseUrl, "{ input: 2.5, output: 10 }")}${model("beta", b.baseUrl, "{ input: 0.1, output: 0.4 }")}${model("hostile", h.baseUrl, "{ input: 0.05, output: 0.1 }")}baseline: alpha\nsuites: [suite.yaml]\n`,
  });
  const r = await runCli(["eval", "-c", join(dir, "weightbridge.yaml"), "--json"], { env: { WEIGHTBRIDGE_DATABASE_URL: db } });
  if (r.code !== 0 && r.code !== 1) throw new Error(`eval failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { runId: string }).runId;
}

async function redteamRun(dir: string, db: string, stubs: Simulator[]): Promise<string> {
  const mk = (mode: "echo" | "refuse") =>
    startStub({ behaviour: { mode, accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "A simulated answer." } });
  const echo = await mk("echo");
  const refuser = await mk("refuse");
  stubs.push(echo, refuser);
  const m = (id: string, url: string) => `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: ${id}\n`;
  writeFiles(dir, {
    "redteam.yaml": `models:\n${m("echo", echo.baseUrl)}${m("refuser", refuser.baseUrl)}baseline: echo\nsuites: [s.yaml]\n`,
    "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
  });
  const r = await runCli(["redteam", "-c", join(dir, "redteam.yaml"), "--packs", "system-prompt-leak,over-refusal", "--json"], {
    env: { WEIGHTBRIDGE_DATABASE_URL: db },
    timeoutMs: 120_000,
  });
  if (r.code !== 0 && r.code !== 1) throw new Error(`redteam failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { runId: string }).runId;
}

async function gatewayTraffic(dir: string, stubs: Simulator[]): Promise<void> {
  const up = await startStub({ behaviour: { mode: "script", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "Fine, thanks." } });
  stubs.push(up);
  writeFiles(dir, {
    "gateway.yaml": `deployments:\n  - id: hosted\n    baseUrl: ${up.baseUrl}\n    model: m\nroutes:\n  - model: support\n    targets: [hosted]\n    onSensitive: block\n`,
  });
  const { gw, close } = await startTestGateway(dir, "ui.sqlite");
  const send = (key: string, content: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content }] }),
    }).then((r) => r.arrayBuffer());
  try {
    await send(TEST_KEY, "How are you?");
    await send(TEST_KEY, "How are you today?");
    await send(TEST_KEY, "Mail me at jane.doe@example.com please");
    await send("wb_wrong", "hello");
  } finally {
    await close();
  }
}

export async function buildUiFixture(n = 60): Promise<UiFixture> {
  const dir = tempDir("wb-ui-");
  const db = join(dir, "ui.sqlite");
  const stubs: Simulator[] = [];
  try {
    const evalA = await evalRun(dir, db, n, 0.8, stubs);
    const evalB = await evalRun(dir, db, n, 0.9, stubs);
    const redteam = await redteamRun(dir, db, stubs);
    await gatewayTraffic(dir, stubs);
    return { dir, db, evalA, evalB, redteam, close: async () => {} };
  } finally {
    await Promise.all(stubs.map((s) => s.close()));
  }
}
