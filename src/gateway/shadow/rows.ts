/**
 * The rows a shadow pair and a capture become (store/shadow.ts writes them): a pair is two rows of
 * `results` under the route's shadow run, same case index — the primary's (the reference, score 1)
 * and the shadow deployment's (graded against it). Pure.
 */
import type { ResultRecord } from "../../records/index.js";
import type { ResultsTable } from "../../store/index.js";
import { sha256Hex } from "../audit-log.js";
import type { Deployment, Route } from "../config.js";

/** The grade type that marks a shadow run's primary row; its detail holds the request's classes and the shadow targets. */
export const PRIMARY_GRADE = "shadow-primary";

/** One run per route and UTC day, or per `--shadow-run` window. */
export function shadowRunId(route: string, now: Date, window?: string): string {
  const w = window ?? now.toISOString().slice(0, 10).replace(/-/g, "");
  return `shadow-${w}-${route.replace(/[^\w.-]/g, "_")}`;
}

/** The run's plan: enough of an eval plan for runs, runs diff and report (a suite named after the route, the primary as baseline). */
export function shadowPlan(route: Route, deployments: readonly Deployment[], configPath: string, window: string) {
  const model = (id: string) => {
    const d = deployments.find((x) => x.id === id);
    return { config: { id, provider: "gateway", model: d?.model ?? id }, price: d?.price ? { ...d.price, source: "config" } : null };
  };
  return {
    version: 1,
    kind: "shadow",
    route: route.model,
    window,
    primary: route.targets,
    shadows: route.shadow?.targets ?? [],
    compare: route.shadow?.compare ?? [],
    sample: route.shadow?.sample ?? 0,
    suites: [{ name: route.model, file: configPath, params: {}, cases: [] }],
    models: [...route.targets, ...(route.shadow?.targets ?? [])].map(model),
    helpers: [],
    baseline: route.targets[0],
    judge: undefined,
    embedder: undefined,
    repeat: 1,
    defaults: { params: {} },
  };
}

/** Half of a pair: the figures of a result record (store/results.ts keeps both the same way), keyed by the route's run and case. */
export interface Half
  extends Pick<ResultRecord, "output" | "grades" | "score" | "passed" | "inputTokens" | "outputTokens" | "costPusd" | "latencyMs" | "error"> {
  runId: string;
  route: string;
  caseIndex: number;
  deployment: string;
  messagesJson: string;
  createdAt: string;
}

export function halfRow(h: Half): ResultsTable {
  return {
    run_id: h.runId,
    suite: h.route,
    case_index: h.caseIndex,
    model_id: h.deployment,
    repeat: 0,
    case_id: `${h.route}#${h.caseIndex}`,
    messages_json: h.messagesJson,
    output: h.output,
    scores_json: JSON.stringify(h.grades),
    score: h.score,
    passed: h.passed ? 1 : 0,
    input_tokens: h.inputTokens,
    output_tokens: h.outputTokens,
    cost_pusd: h.costPusd,
    latency_ms: h.latencyMs,
    ttft_ms: null,
    error: h.error,
    cached: 0,
    attempts: 1,
    created_at: h.createdAt,
  };
}

export function captureRow(o: {
  id: string;
  route: string;
  time: string;
  deployment: string;
  messages: unknown[];
  answer: string;
  classes: Record<string, number>;
}) {
  const request_json = JSON.stringify(o.messages);
  return {
    id: o.id,
    route: o.route,
    time: o.time,
    deployment: o.deployment,
    request_json,
    answer: o.answer,
    classes_json: JSON.stringify(o.classes),
    request_sha256: sha256Hex(request_json),
  };
}
