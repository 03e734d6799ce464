/**
 * One attempt: a (case, model, repeat) from its messages to a graded result. A plain case is one
 * request. A conversation — a suite with tools, an `agent` case or scripted `turns` — is a loop:
 * model → tool calls → mocked results (mocks.ts) → model …, or model → next scripted user message
 * → model …, up to maxTurns answers. Each answer is committed as a turn before the next request, so
 * a resumed run replays the turns it already has and sends only what was never answered. Tokens,
 * cost and latency are summed over the turns; graders see every answer and the final text.
 */
import { costPusd } from "../economics/index.js";
import type { Message } from "../providers/index.js";
import type { ResultRecord, TurnRecord } from "../records/index.js";
import { errorMessage } from "../util/errors.js";
import { type AnswerTurn, gradeCase } from "./graders/index.js";
import { mockResult } from "./mocks.js";
import type { CachedResponse, ModelCaller } from "./model-call.js";
import type { PlannedCase, PlannedModel, PlannedSuite } from "./plan.js";
import type { Recorder } from "./recorder.js";
import { answerFacts } from "./tool-fidelity.js";

export interface Item {
  suite: PlannedSuite;
  testCase: PlannedCase;
  model: PlannedModel;
  repeat: number;
}

/** A turn as result_turns.response_json keeps it. */
export interface StoredTurn extends CachedResponse {
  cached: boolean;
  attempts: number;
}

export interface AttemptDeps {
  runId: string;
  caller: ModelCaller;
  recorder: Recorder;
  signal?: AbortSignal;
}

export interface AttemptResult {
  record: ResultRecord;
  cacheEntry?: { key: string; value: string };
  simulated: boolean;
  /** Every answer came from the cache (or from turns stored before a resume). */
  cached: boolean;
}

/** Most answers in an agent conversation when the case sets no maxTurns. */
export const DEFAULT_MAX_TURNS = 8;

/** What a result row says beyond which item it is. */
export type Outcome = Omit<ResultRecord, "runId" | "suite" | "caseIndex" | "caseId" | "modelId" | "repeat" | "messages">;

/**
 * An item's result row: which item it is (and the messages the case starts from), then its outcome;
 * shared by answered and failed items. One literal, field by field: `{ ...head, output, … }` (spread
 * then new keys) takes V8's slow path on Node 20 — 3% of an eval's main-thread time in a profile,
 * ~30 µs a row — and leaves a dictionary-mode object every later step reads slowly.
 */
export function itemRecord(runId: string, it: Item, o: Outcome): ResultRecord {
  return {
    runId,
    suite: it.suite.name,
    caseIndex: it.testCase.index,
    caseId: it.testCase.id,
    modelId: it.model.config.id,
    repeat: it.repeat,
    messages: it.testCase.messages,
    output: o.output,
    grades: o.grades,
    score: o.score,
    passed: o.passed,
    inputTokens: o.inputTokens,
    outputTokens: o.outputTokens,
    costPusd: o.costPusd,
    latencyMs: o.latencyMs,
    ttftMs: o.ttftMs,
    error: o.error,
    cached: o.cached,
    attempts: o.attempts,
  };
}

export function isConversation(suite: PlannedSuite, c: PlannedCase): boolean {
  return Boolean(suite.tools?.length || c.agent || c.turns?.length);
}

/** Most answers a case's conversation can take (a plain case: one). */
export function maxAnswers(c: PlannedCase): number {
  const scripted = c.turns?.length ?? 0;
  return c.agent ? (c.agent.maxTurns ?? DEFAULT_MAX_TURNS + scripted) : 1 + scripted;
}

/** What comes after an answer: tool results, the next scripted user message, or the end. */
function nextMessages(c: PlannedCase, answer: CachedResponse, scriptedSent: number): Message[] | undefined {
  const calls = answer.toolCalls ?? [];
  if (calls.length)
    return c.agent ? calls.map((call) => ({ role: "tool", toolCallId: call.id, content: mockResult(c.agent?.mocks ?? {}, call).content })) : undefined;
  const next = c.turns?.[scriptedSent];
  return next === undefined ? undefined : [{ role: "user", content: next }];
}

export async function runAttempt(it: Item, deps: AttemptDeps, stored: readonly StoredTurn[] = []): Promise<AttemptResult> {
  const { caller, recorder } = deps;
  const m = it.model.config;
  const c = it.testCase;
  const params = caller.paramsFor(it.suite, m);
  const salt = it.repeat > 0 ? `repeat:${it.repeat}` : "";
  const tools = it.suite.tools;
  const conversation = isConversation(it.suite, c);
  const messages: Message[] = [...c.messages];
  const turns: StoredTurn[] = [];
  let cacheEntry: { key: string; value: string } | undefined;
  let scriptedSent = 0;
  for (let t = 0; t < maxAnswers(c); t++) {
    let turn = stored[t];
    if (!turn) {
      const r = await caller.call(m, t === 0 ? c.messages : [...messages], params, salt, { ...(tools ? { tools } : {}), lookup: t > 0 });
      turn = { ...r.res, cached: r.cached, attempts: r.attempts };
      if (conversation) await recorder.turn(turnRecord(deps.runId, it, t, turn), r.cacheEntry);
      else cacheEntry = r.cacheEntry;
    }
    turns.push(turn);
    messages.push({ role: "assistant", content: turn.text, ...(turn.toolCalls?.length ? { toolCalls: turn.toolCalls } : {}) });
    const next = nextMessages(c, turn, scriptedSent);
    if (!next) break;
    if (next[0]?.role === "user") scriptedSent++;
    messages.push(...next);
  }
  return {
    record: await graded(it, deps, turns),
    ...(cacheEntry ? { cacheEntry } : {}),
    simulated: turns.some((t) => t.simulated),
    cached: turns.every((t) => t.cached),
  };
}

function turnRecord(runId: string, it: Item, turn: number, response: StoredTurn): TurnRecord {
  const s = it.suite;
  return {
    runId,
    suite: s.name,
    caseIndex: it.testCase.index,
    modelId: it.model.config.id,
    repeat: it.repeat,
    turn,
    response,
    facts: s.tools?.length ? answerFacts(response, s.tools) : null,
  };
}

/** The result row: totals over the turns, graded on the final text and every answer. */
async function graded(it: Item, deps: AttemptDeps, turns: StoredTurn[]): Promise<ResultRecord> {
  const final = turns[turns.length - 1] as StoredTurn;
  let inputTokens = 0;
  let outputTokens = 0;
  let latencyMs = 0;
  let attempts = 0;
  for (const t of turns) {
    inputTokens += t.usage.inputTokens;
    outputTokens += t.usage.outputTokens;
    latencyMs += t.latencyMs;
    attempts += t.attempts;
  }
  const price = it.model.price;
  const base: ResultRecord = itemRecord(deps.runId, it, {
    output: final.text,
    grades: [],
    score: 0,
    passed: false,
    inputTokens,
    outputTokens,
    costPusd: price ? costPusd(inputTokens, outputTokens, price) : null,
    latencyMs,
    ttftMs: turns[0]?.ttftMs ?? null,
    error: null,
    cached: turns.every((t) => t.cached),
    attempts,
  });
  const answers: AnswerTurn[] = turns.map((t) => ({ text: t.text, toolCalls: t.toolCalls ?? [] }));
  try {
    const g = await gradeCase(it.testCase.expects, {
      output: final.text,
      ...(isConversation(it.suite, it.testCase) ? { answers } : {}),
      testCase: it.testCase,
      judge: (model, msgs) => deps.caller.judge(model, msgs, (e) => deps.recorder.cache(e)),
      embed: (model, texts) => deps.caller.embed(model, texts),
    });
    base.grades = g.grades;
    base.score = g.score;
    base.passed = g.passed;
  } catch (e) {
    if (deps.signal?.aborted) throw e;
    deps.recorder.errors++;
    base.error = `grading failed: ${errorMessage(e)}`;
  }
  return base;
}
