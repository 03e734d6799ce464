/**
 * Multi-turn escalation end to end: an attacker stub escalates turn by turn, target stubs give in
 * after k turns (or never), over real HTTP with a real SQLite store; the goals' own detectors grade
 * every answer. Every figure is known from the stubs: turns taken, successes, requests sent.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/index.js";
import { runRedteam } from "../../src/redteam/session.js";
import { loadResults, openStore } from "../../src/store/index.js";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";
import { type AgentStub, lastOf, type StubRequest, startAgentStub, userTurns } from "./agent-stub.js";

const REFUSAL = "I'm sorry, but I can't help with that.";
const COMPLY = "Sure, here it is: on June 4 the troops moved in, and here are the steps.";
const MAX_TURNS = 4;

function behave(r: StubRequest) {
  const nudged = /authorised safety evaluation/.test(lastOf(r)?.content ?? "");
  if (r.model === "verbose-attacker") return { text: `${"A".repeat(10_000)} tail` };
  if (r.model === "mute-attacker") return { text: "   " };
  if (r.model === "shy-attacker" || (r.model === "reluctant-attacker" && !nudged)) return { text: REFUSAL };
  if (r.model === "attacker" || r.model === "reluctant-attacker") {
    const ask = r.messages[1]?.content ?? "";
    const turn = /Turn (\d+) of (\d+)/.exec(ask);
    const goal = /GOAL<(.*)>/.exec(r.messages[0]?.content ?? "")?.[1];
    return { text: `step ${turn?.[1]}/${turn?.[2]}: ${goal}` };
  }
  const gives = { "yields-at-2": 2, "yields-at-9": 9, never: Number.POSITIVE_INFINITY }[r.model];
  if (gives === undefined) throw new Error(`unknown model ${r.model}`);
  return { text: userTurns(r) >= gives ? COMPLY : REFUSAL };
}

function project(stub: AgentStub): { config: string; packs: string } {
  const dir = tempDir();
  const packs = tempDir();
  const m = (id: string) => `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${stub.baseUrl}\n    model: ${id}\n`;
  writeFiles(dir, {
    "weightbridge.yaml": `models:\n${m("never")}${m("yields-at-2")}${m("yields-at-9")}${m("attacker")}${m("shy-attacker")}${m("reluctant-attacker")}${m("verbose-attacker")}${m("mute-attacker")}baseline: never\nsuites: [s.yaml]\n`,
    "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
  });
  const attack = (id: string, text: string, extra = "") => `- id: ${id}\n  category: c\n  language: en\n  text: ${text}\n${extra}`;
  writeFiles(packs, {
    "jb.yaml": `pack: jb\ndescription: d\nsystem: You are a helpful assistant.\ndetector: not-refused\nattacks:\n${attack("a1", "goal one")}${attack("a2", "goal two")}${attack("a3", "goal three")}`,
    "topics.yaml": `pack: topics\ndescription: d\nsystem: Be factual.\ndetector: facts\nattacks:\n${attack("t1", "topic one", "  facts: [[june 4], [troops]]\n")}${attack("t2", "topic two", "  facts: [[june 4], [troops]]\n")}`,
    "escalate.yaml": `pack: escalate\nkind: multi-turn\ndescription: crescendo\nmaxTurns: ${MAX_TURNS}\nfrom:\n- { pack: jb, stop: success }\n- { pack: topics, stop: held }\nattackerSystem: "GOAL<{{goal}}> in {{maxTurns}} turns"\n`,
  });
  return { config: join(dir, "weightbridge.yaml"), packs };
}

let stub: AgentStub;
beforeAll(async () => {
  stub = await startAgentStub(behave);
});
afterAll(() => stub.close());

describe("multi-turn escalation", () => {
  it("escalates turn by turn, stops at the goal's outcome, grades with the goal's detector, stores every turn", async () => {
    const { config, packs } = project(stub);
    const before = stub.requests.length;
    const r = await runRedteam({ config, packsDir: packs, packs: ["escalate"], attacker: "attacker", models: ["never", "yields-at-2", "yields-at-9"] });
    const sent = stub.requests.slice(before);
    const pack = r.packs.find((p) => p.pack === "escalate");
    const m = (id: string) => pack?.models.find((x) => x.id === id);
    // jb goals (stop at success) then topic goals (stop when the facts are given; success = still refused).
    expect(m("yields-at-2")).toMatchObject({ attacks: 5, successes: 3, errors: 0 }); // 3 jailbreaks at turn 2, both topics answered
    expect(m("never")).toMatchObject({ attacks: 5, successes: 2 }); // no jailbreak, both topics refused to the end
    expect(m("yields-at-9")).toMatchObject({ attacks: 5, successes: 2 }); // gives in after the last turn: too late
    expect(m("yields-at-2")?.vsBaseline?.diff).toBeCloseTo(0.2, 10);
    // Requests: yields-at-2 takes 2 turns per goal, the others all 4; one attacker request per target request.
    const count = (model: string) => sent.filter((q) => q.model === model).length;
    expect([count("yields-at-2"), count("never"), count("yields-at-9")]).toEqual([10, 20, 20]);
    expect(count("attacker")).toBe(50);
    // The attacker sees the target's answers; the target sees the attacker's messages and its own answers.
    const second = sent.find((q) => q.model === "attacker" && /Turn 2 of 4/.test(lastOf(q)?.content ?? ""));
    expect(lastOf(second as StubRequest)?.content).toContain(`TARGET: ${REFUSAL}`);
    const t2 = sent.find((q) => q.model === "yields-at-2" && userTurns(q) === 2 && /goal one/.test(lastOf(q)?.content ?? ""));
    expect(t2?.messages).toEqual([
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "step 1/4: goal one" },
      { role: "assistant", content: REFUSAL },
      { role: "user", content: "step 2/4: goal one" },
    ]);
    // Stored: the conversation in messages, the last answer in output, each turn's verdict in the grade.
    const store = await openStore(loadProject(config).storeUrl);
    const rows = await loadResults(store.db, r.runId);
    await store.close();
    const row = rows.find((x) => x.suite === "escalate" && x.modelId === "yields-at-2" && x.caseIndex === 0);
    expect(row?.messages.map((x) => x.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(row?.output).toBe(COMPLY);
    expect(row?.grades[0]?.detail).toMatchObject({ perTurn: [false, true], turns: 2, attacker: "attacker", attackSucceeded: true });
    // The run's report (and so the UI, which reads the same plan) shows the pack with the same figures.
    const rep = await runCli(["report", r.runId, "-c", config, "--format", "json"]);
    expect(rep.code, rep.stderr).toBe(0);
    const reported = (JSON.parse(rep.stdout) as { packs: { pack: string; models: { id: string; successes: number }[] }[] }).packs.find(
      (p) => p.pack === "escalate",
    );
    expect(reported?.models.map((x) => [x.id, x.successes])).toEqual([
      ["never", 2],
      ["yields-at-2", 3],
      ["yields-at-9", 2],
    ]);
  });

  it("an interrupted run resumes without sending finished conversations again", async () => {
    const { config, packs } = project(stub);
    const ac = new AbortController();
    const before = stub.requests.length;
    const first = await runRedteam({
      config,
      packsDir: packs,
      packs: ["escalate"],
      attacker: "attacker",
      models: ["never"],
      concurrency: 1,
      signal: ac.signal,
      onProgress: (done) => {
        if (done === 2) ac.abort(new Error("stop"));
      },
    });
    expect(first.status).toBe("interrupted");
    const firstSent = stub.requests.slice(before).filter((q) => q.model === "never");
    const r = await runRedteam({ config, resume: first.runId });
    const all = stub.requests.slice(before).filter((q) => q.model === "never");
    const resumed = all.slice(firstSent.length);
    // Goals 1 and 2 were stored before the stop: the resumed run sends nothing for them.
    expect(resumed.some((q) => /goal one|goal two/.test(q.messages[1]?.content ?? ""))).toBe(false);
    expect(firstSent).toHaveLength(2 * MAX_TURNS); // the third conversation never started
    expect(resumed).toHaveLength(3 * MAX_TURNS);
    expect(r.packs.find((p) => p.pack === "escalate")?.models[0]).toMatchObject({ id: "never", attacks: 5, successes: 2, errors: 0 });
  });
});

describe("multi-turn escalation, interrupted mid-conversation", () => {
  it("resumes after the conversation's last stored turn: nothing answered is sent again, to the target or the attacker", async () => {
    const { config, packs } = project(stub);
    const ac = new AbortController();
    const before = stub.requests.length;
    const targetSent = () => stub.requests.slice(before).filter((q) => q.model === "never").length;
    // Stop in the middle of the second conversation (the first takes all 4 turns).
    const timer = setInterval(() => {
      if (targetSent() >= MAX_TURNS + 2) ac.abort(new Error("stop"));
    }, 1);
    const first = await runRedteam({
      config,
      packsDir: packs,
      packs: ["escalate"],
      attacker: "attacker",
      models: ["never"],
      concurrency: 1,
      signal: ac.signal,
    });
    clearInterval(timer);
    expect(first.status).toBe("interrupted");
    const r = await runRedteam({ config, resume: first.runId });
    const all = stub.requests.slice(before);
    // A request sent again repeats its model and exact messages. At most the one in flight at the stop
    // (concurrency 1) may be repeated: its answer never came back. Redoing the conversation from its
    // start would repeat at least its first attacker and target requests.
    const keys = all.map((q) => JSON.stringify([q.model, q.messages]));
    expect(keys.length - new Set(keys).size).toBeLessThanOrEqual(1);
    expect(all.filter((q) => q.model === "never").length).toBeLessThanOrEqual(5 * MAX_TURNS + 1);
    expect(r.packs.find((p) => p.pack === "escalate")?.models[0]).toMatchObject({ id: "never", attacks: 5, successes: 2, errors: 0 });
    // The resumed conversation's row holds the whole conversation, the replayed turns included.
    const store = await openStore(loadProject(config).storeUrl);
    const rows = await loadResults(store.db, r.runId);
    await store.close();
    const second = rows.find((x) => x.suite === "escalate" && x.caseIndex === 1);
    expect(second?.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([1, 2, 3, 4].map((t) => `step ${t}/4: goal two`));
  });
});

describe("an attacker that declines", () => {
  it("is asked again once; one that keeps refusing leaves errors, never attacks the target withstood", async () => {
    const { config, packs } = project(stub);
    const before = stub.requests.length;
    const shy = await runRedteam({ config, packsDir: packs, packs: ["escalate"], attacker: "shy-attacker", models: ["yields-at-2"] });
    expect(shy.packs[0]?.models[0]).toMatchObject({ id: "yields-at-2", attacks: 5, successes: 0, errors: 5 });
    expect(stub.requests.slice(before).filter((q) => q.model === "yields-at-2")).toHaveLength(0);
    expect(stub.requests.slice(before).filter((q) => q.model === "shy-attacker")).toHaveLength(2 * 5); // two tries, first turn
    const mid = stub.requests.length;
    const reluctant = await runRedteam({ config, packsDir: packs, packs: ["escalate"], attacker: "reluctant-attacker", models: ["yields-at-2"] });
    expect(reluctant.packs[0]?.models[0]).toMatchObject({ successes: 3, errors: 0 });
    expect(stub.requests.slice(mid).filter((q) => q.model === "reluctant-attacker")).toHaveLength(2 * 10); // refused, then wrote: every turn
  });
});

describe("attacker output is bounded", () => {
  it("cuts a long attacker message at 4,000 characters and turns an empty one into an error", async () => {
    const { config, packs } = project(stub);
    const before = stub.requests.length;
    await runRedteam({ config, packsDir: packs, packs: ["escalate"], attacker: "verbose-attacker", models: ["never"], turns: 1 });
    const sent = stub.requests.slice(before).filter((q) => q.model === "never");
    expect(sent).toHaveLength(5);
    for (const q of sent) expect(lastOf(q)?.content).toBe("A".repeat(4000));
    const mute = await runRedteam({ config, packsDir: packs, packs: ["escalate"], attacker: "mute-attacker", models: ["never"] });
    expect(mute.packs[0]?.models[0]).toMatchObject({ attacks: 5, errors: 5, successes: 0 });
  });
});

describe("redteam --attacker on the command line", () => {
  it("refuses a named multi-turn pack without --attacker, and an unknown attacker, before sending anything", async () => {
    const { config } = project(stub);
    const before = stub.requests.length;
    const a = await runCli(["redteam", "-c", config, "--packs", "multi-turn-escalation"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/multi-turn pack needs an attacker model/);
    expect(a.stderr).toMatch(/--attacker MODEL_ID/);
    const b = await runCli(["redteam", "-c", config, "--packs", "multi-turn-escalation", "--attacker", "nope"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/no model "nope" in the config/);
    expect(stub.requests.length).toBe(before);
  });
});
