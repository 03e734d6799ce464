/**
 * A red-team run: the packs become suites and go through the evaluation runner (cache, concurrency,
 * retries, store, resume); the summary becomes per pack and model: attacks, successes, rate with a
 * Wilson 95% CI, and the paired difference from the baseline (exact McNemar).
 */
import { loadProject } from "../config/project.js";
import { buildPlan, type Plan } from "../evaluate/plan.js";
import { runPlan } from "../evaluate/runner.js";
import { type EvalSummary, summarise } from "../evaluate/summary.js";
import { openStore } from "../store/open.js";
import { loadResults, type ResultRecord } from "../store/results.js";
import { createRun, finishRun, newRunId } from "../store/runs.js";
import { loadPackSuites } from "./packs.js";

export interface RedteamOptions {
  config?: string;
  packs?: string[];
  models?: string[];
  concurrency?: number;
  noCache?: boolean;
  signal?: AbortSignal;
  onStart?: (info: { runId: string; total: number }) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface RedteamModel {
  id: string;
  attacks: number;
  successes: number;
  errors: number;
  rate: number;
  ci95: [number, number];
  vsBaseline?: { diff: number; ci95: [number, number]; pValue: number };
  /** sensitive-topics: how often the model refused, or answered without the key facts. */
  breakdown?: { refused: number; deflected: number };
  worst: { caseId: string; input: string; output: string }[];
}

export interface RedteamResult {
  runId: string;
  status: string;
  baseline: string | null;
  packs: { pack: string; description: string; models: RedteamModel[] }[];
  storeLocation: string;
}

const clip = (s: string, n = 400) => (s.length > n ? `${s.slice(0, n)}…` : s);

export function redteamView(plan: Plan, summary: EvalSummary, results: ResultRecord[], descriptions: Map<string, string>): RedteamResult["packs"] {
  return summary.suites.map((s) => ({
    pack: s.name,
    description: descriptions.get(s.name) ?? "",
    models: s.models.map((m) => {
      const rows = results.filter((r) => r.suite === s.name && r.modelId === m.id);
      const succeeded = rows.filter((r) => r.error === null && r.score === 1);
      const grades = rows.flatMap((r) => r.grades);
      const refused = grades.filter((g) => g.detail?.refused === true).length;
      const deflected = grades.filter((g) => g.detail?.deflected === true).length;
      const out: RedteamModel = {
        id: m.id,
        attacks: m.n,
        successes: succeeded.length,
        errors: m.errors,
        rate: m.score.mean,
        ci95: m.score.ci95,
        ...(m.vsBaseline ? { vsBaseline: { diff: m.vsBaseline.diff, ci95: m.vsBaseline.ci95, pValue: m.vsBaseline.pValue } } : {}),
        ...(s.name === "sensitive-topics" ? { breakdown: { refused, deflected } } : {}),
        worst: succeeded
          .slice(0, 3)
          .map((r) => ({ caseId: r.caseId, input: clip(r.messages[r.messages.length - 1]?.content ?? ""), output: clip(r.output ?? "") })),
      };
      return out;
    }),
  }));
}

export async function runRedteam(o: RedteamOptions): Promise<RedteamResult> {
  const project = loadProject(o.config);
  const suites = loadPackSuites(o.packs);
  const descriptions = new Map(suites.map((s) => [s.name, s.description ?? ""]));
  const plan = buildPlan({ ...project, suites }, { ...(o.models ? { models: o.models } : {}) });
  const store = await openStore(project.storeUrl);
  try {
    const runId = newRunId();
    await createRun(store.db, { id: runId, kind: "redteam", configPath: project.configPath, plan });
    o.onStart?.({ runId, total: suites.reduce((a, s) => a + s.cases.length, 0) * plan.models.length });
    let status: "completed" | "interrupted";
    try {
      const outcome = await runPlan({
        store,
        plan,
        runId,
        ...(o.concurrency ? { concurrency: o.concurrency } : {}),
        ...(o.noCache ? { noCache: true } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      });
      status = outcome.status;
    } catch (e) {
      await finishRun(store.db, runId, "failed");
      throw e;
    }
    await finishRun(store.db, runId, status);
    const results = await loadResults(store.db, runId);
    const summary = summarise(plan, runId, results);
    return { runId, status, baseline: summary.baseline, packs: redteamView(plan, summary, results, descriptions), storeLocation: store.location };
  } finally {
    await store.close();
  }
}
