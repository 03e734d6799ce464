export { type CaseGrade, GRADERS, gradeCase, labelMetrics, parseRankedIds, parseVerdict, rankingMetrics } from "./graders/index.js";
export { buildPlan, type Plan, type PlannedCase, type PlannedModel, type PlannedSuite, type PlanOptions, planSize } from "./plan.js";
export { backoffDelay, DEFAULT_RETRY, type RetryPolicy, withRetries } from "./retry.js";
export { DEFAULT_CONCURRENCY, DEFAULT_MODEL_CONCURRENCY, type RunOptions, type RunOutcome, runPlan } from "./runner.js";
export { type EvaluateOptions, type EvaluateResult, evaluate, openStoreFor, resolveRun, summariseStoredRun } from "./session.js";
export { type EvalSummary, type ModelSummary, type SuiteSummary, summarise } from "./summary.js";
