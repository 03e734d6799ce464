/**
 * One ResultRecord for tests: a passed, one-message case with unit tokens, cost and latency. A test
 * states the run, the case and the model, and overrides only the fields it is about.
 */
import type { ResultRecord } from "../../src/records/index.js";

export function resultRecord(r: Partial<ResultRecord> & Pick<ResultRecord, "runId" | "caseIndex" | "modelId">): ResultRecord {
  const suite = r.suite ?? "s";
  return {
    suite,
    caseId: `${suite}#${r.caseIndex + 1}`,
    repeat: 0,
    messages: [{ role: "user", content: "q" }],
    output: "ok",
    grades: [],
    score: 1,
    passed: true,
    inputTokens: 1,
    outputTokens: 1,
    costPusd: 1,
    latencyMs: 1,
    ttftMs: 1,
    error: null,
    cached: false,
    attempts: 1,
    ...r,
  };
}
