/**
 * The run page's Report, built one model at a time so that a run of 1,000,000 results is not held
 * in memory (src/report's buildReport loads every result with its texts: 3.1 GB and minutes for
 * such a run). Each model's rows are read without their texts, in buildReport's order (suite, case,
 * repeat), and fed to the same pure functions buildReport uses (summarise, caseScores,
 * comparePairedByKey, gateVerdict, decideVerdict…), paired against the baseline's rows, which are
 * the only other rows kept. Only the changed cases shown on the page read their texts afterwards.
 * Memory: the baseline's rows and one model's rows (about 200 bytes each without texts).
 * test/ui/run-report.test.ts checks that the Report equals buildReport's on real stores.
 *
 * reportFromRows builds the same Report from rows already in memory and the run's summary (what
 * eval holds when a run completes: keep.ts), reusing the summary's per-suite figures.
 *
 * Runs this path does not cover (a self-hosted model priced from a bench run) raise NeedsFullBuild;
 * the caller then uses buildReport itself.
 */
import { sql } from "kysely";
import { sumPusdToUsd } from "../../economics/index.js";
import {
  adjustForMultiplicity,
  caseScores,
  type DecisionRecord,
  type EvalSummary,
  type ModelSummary,
  type Plan,
  planSize,
  resolveRun,
  summarise,
  toolFactsOf,
} from "../../evaluate/index.js";
import type { Message } from "../../providers/index.js";
import type { GradeRecord, ResultRecord } from "../../records/index.js";
import {
  type AdoptionCriteria,
  bySuiteCase,
  type Changed,
  type ChangedCase,
  candidateRow,
  changedCase,
  changedOf,
  DEFAULT_CRITERIA,
  evalReport,
  firstRepeats,
  markPareto,
  modelOverall,
  pairedOptionsFor,
  type Report,
  redteamSection,
} from "../../report/index.js";
import { comparePairedByKey, type PairedComparison } from "../../stats/index.js";
import type { RunRow, StoreHandle } from "../../store/index.js";
import { getRun } from "../../store/index.js";

export class NeedsFullBuild extends Error {}

type ModelOverall = Report["models"][number];
type RunPlan = Plan & { simulated?: string[]; record?: DecisionRecord };

const NO_MESSAGES: Message[] = [];
const NO_GRADES: GradeRecord[] = [];

const GRADES_SQL = `case when scores_json like '%"type":"label"%' or scores_json like '%"type":"ranking"%' then scores_json else '[]' end`;
const COLUMNS = "suite, case_index, case_id, repeat, score, passed, input_tokens, output_tokens, cost_pusd, latency_ms, ttft_ms, error, cached, attempts";
type Row = [
  string,
  number,
  string,
  number,
  number,
  number,
  number,
  number,
  number | bigint | null,
  number | null,
  number | null,
  string | null,
  number,
  number,
  string,
];

/**
 * One model's results without texts, in buildReport's order. Grades are read only where a summary
 * uses them (label and ranking details: accuracy, F1, nDCG…); other rows get none. On SQLite the
 * rows are read as arrays straight into records (no intermediate row objects).
 */
async function modelRows(store: StoreHandle, runId: string, modelId: string): Promise<ResultRecord[]> {
  const query = `select ${COLUMNS}, ${GRADES_SQL} as grades from results where run_id = ? and model_id = ? order by suite, case_index, repeat`;
  // One string per suite name, not one per row.
  const names = new Map<string, string>();
  const intern = (s: string) => names.get(s) ?? (names.set(s, s).get(s) as string);
  const toRecord = (t: Row): ResultRecord => ({
    runId,
    suite: intern(t[0]),
    caseIndex: t[1],
    caseId: t[2],
    modelId,
    repeat: t[3],
    messages: NO_MESSAGES,
    output: null,
    grades: t[14] === "[]" ? NO_GRADES : (JSON.parse(t[14]) as GradeRecord[]),
    score: t[4],
    passed: t[5] === 1,
    inputTokens: t[6],
    outputTokens: t[7],
    costPusd: t[8] === null ? null : Number(t[8]),
    latencyMs: t[9],
    ttftMs: t[10],
    error: t[11],
    cached: t[12] === 1,
    attempts: t[13],
  });
  if (store.sqlite) {
    const out: ResultRecord[] = [];
    for (const t of store.sqlite.prepare(query).raw(true).iterate(runId, modelId) as IterableIterator<Row>) out.push(toRecord(t));
    return out;
  }
  const rows = await sql<
    Record<string, unknown>
  >`select ${sql.raw(COLUMNS)}, ${sql.raw(GRADES_SQL)} as grades from results where run_id = ${runId} and model_id = ${modelId} order by suite, case_index, repeat`.execute(
    store.db,
  );
  return rows.rows.map((r) => toRecord(Object.values(r) as Row));
}

type Texts = (r: ResultRecord) => { messages: Message[]; output: string | null } | undefined;

/** The texts of the kept changed cases, read by key (each an index lookup): one query per candidate. */
async function textsIn(store: StoreHandle, runId: string, candidate: string, baseline: string, c: Changed): Promise<Texts> {
  const keys = c.kept.flatMap((k) => [
    sql`(${candidate}, ${k.cand.suite}, cast(${k.cand.caseIndex} as integer))`,
    sql`(${baseline}, ${k.base.suite}, cast(${k.base.caseIndex} as integer))`,
  ]);
  const rows = await sql<{ suite: string; case_index: number; model_id: string; messages_json: string; output: string | null }>`
    select suite, case_index, model_id, messages_json, output from results
    where run_id = ${runId} and repeat = 0 and (model_id, suite, case_index) in (values ${sql.join(keys)})`.execute(store.db);
  const text = new Map(rows.rows.map((r) => [`${r.suite}\u0000${r.case_index}\u0000${r.model_id}`, r]));
  return (r) => {
    const t = text.get(`${bySuiteCase(r)}\u0000${r.modelId}`);
    return t && { messages: JSON.parse(t.messages_json) as Message[], output: t.output };
  };
}

/** The kept changed cases with their texts: from the rows when they carry them (eval's own), else from the store. */
async function changedTexts(store: StoreHandle, runId: string, candidate: string, baseline: string, c: Changed): Promise<ChangedCase[]> {
  if (c.kept.length === 0) return [];
  // Every case has a message: rows read without texts have none.
  const inRows = c.kept.every((k) => k.cand.messages.length > 0 && k.base.messages.length > 0);
  const of: Texts = inRows ? (r) => ({ messages: r.messages, output: r.output }) : await textsIn(store, runId, candidate, baseline, c);
  return c.kept.map((k) => {
    const ct = of(k.cand);
    return changedCase(candidate, k, { messages: ct?.messages ?? [], baseOutput: of(k.base)?.output ?? null, candOutput: ct?.output ?? null });
  });
}

/** As buildReport: the newest completed red-team run (of the newest 200 runs) that covers any of the models. */
async function latestRedteam(store: StoreHandle, modelIds: Set<string>): Promise<Report["redteam"]> {
  const newest = await store.db.selectFrom("runs").select(["id", "kind", "status"]).orderBy("created_at", "desc").orderBy("id", "desc").limit(200).execute();
  for (const r of newest) {
    if (r.kind !== "redteam" || r.status !== "completed") continue;
    const run = await getRun(store.db, r.id);
    if (run && (run.plan as Plan).models.some((m) => modelIds.has(m.config.id))) return redteamSection(store, run, modelIds);
  }
  return undefined;
}

type PlannedModel = RunPlan["models"][number];

/** What a Report is built from: the run, how to read each model's rows, and optionally the run's summary. */
interface Source {
  run: RunRow;
  plan: RunPlan;
  baseline: string;
  basePm: PlannedModel;
  /** Results stored for the run (the Report's completion). */
  done: number;
  rowsOf(modelId: string): Promise<ResultRecord[]> | ResultRecord[];
  /** The run's summary against the baseline when the caller has it (eval's, at completion); else summarised here per model pair. */
  summary?: Pick<EvalSummary, "suites" | "multiplicity" | "sequential"> | undefined;
  toolFacts?: Map<string, unknown[]> | undefined;
  /** Called after each model (models done, models in all). */
  onModel?: ((done: number, total: number) => void) | undefined;
}

/** The checks both builders share: an eval (or shadow) run with a baseline, and no model priced from a bench run. */
function sourceOf(run: RunRow): { plan: RunPlan; baseline: string; basePm: PlannedModel } {
  const plan = run.plan as RunPlan;
  const baseline = plan.baseline;
  const basePm = plan.models.find((m) => m.config.id === baseline);
  if ((run.kind !== "eval" && run.kind !== "shadow") || !baseline || !basePm) throw new NeedsFullBuild("not an eval or shadow run with a baseline");
  if (plan.models.some((m) => !m.price && m.config.hosting)) throw new NeedsFullBuild("a self-hosted model is priced from a bench run");
  return { plan, baseline, basePm };
}

/** The Report of an eval (or gateway shadow) run with a baseline, equal to buildReport(store, runId) (record.hashedAt aside). */
export async function buildRunReport(store: StoreHandle, runId: string, onModel?: (done: number, total: number) => void): Promise<Report> {
  const run = await resolveRun(store, runId);
  const s = sourceOf(run);
  const done = await store.db
    .selectFrom("results")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("run_id", "=", run.id)
    .executeTakeFirstOrThrow();
  // Tool-call fidelity facts (suites with tools only): small, read once for every model's summary.
  const toolFacts = await toolFactsOf(store, s.plan, run.id);
  return assemble(store, { run, ...s, done: Number(done.n), rowsOf: (id) => modelRows(store, run.id, id), toolFacts, onModel });
}

/**
 * The same Report from a finished eval's rows in memory (every result of the run, texts optional)
 * and the summary eval printed (its per-suite figures are the Report's: not computed twice). Throws
 * NeedsFullBuild for the runs buildRunReport does not cover.
 */
export async function reportFromRows(store: StoreHandle, run: RunRow, rows: readonly ResultRecord[], summary: Source["summary"]): Promise<Report> {
  const s = sourceOf(run);
  const byModel = new Map<string, ResultRecord[]>();
  for (const r of rows) {
    const list = byModel.get(r.modelId);
    if (list) list.push(r);
    else byModel.set(r.modelId, [r]);
  }
  return assemble(store, { run, ...s, done: rows.length, rowsOf: (id) => byModel.get(id) ?? [], summary });
}

/** The Report from the per-model parts: candidate rows, changed cases with their texts, suites, red-team section. */
async function assemble(store: StoreHandle, src: Source): Promise<Report> {
  const { run, plan, baseline } = src;
  const criteria = { ...DEFAULT_CRITERIA };
  const completion = { done: src.done, total: planSize(plan) };
  const { summaries, overall, compared } = await eachModel(src, criteria);
  const models = plan.models.map((m) => overall.get(m.config.id) as ModelOverall);
  markPareto(models);
  const baseO = overall.get(baseline) as ModelOverall;
  const candidates = models
    .filter((o) => o.id !== baseline)
    .map((o) => {
      const { c } = compared.get(o.id) as { c: PairedComparison | null };
      return candidateRow(o, baseO, c, { baseline, status: run.status, completion, criteria });
    });
  const changedCases: ChangedCase[] = [];
  const changedCounts: Report["changedCounts"] = {};
  for (const cand of candidates) {
    const { changed } = compared.get(cand.id) as { changed: Changed };
    changedCases.push(...(await changedTexts(store, run.id, cand.id, baseline, changed)));
    changedCounts[cand.id] = changed.counts;
  }
  const suites =
    src.summary?.suites ??
    plan.suites.map((s) => ({
      name: s.name,
      cases: s.cases.length,
      models: plan.models.flatMap((m) => summaries.get(s.name)?.get(m.config.id) ?? []),
    }));
  const redteam = await latestRedteam(store, new Set(plan.models.map((m) => m.config.id)));
  return evalReport({
    run,
    plan,
    completion,
    baseline,
    criteria,
    candidates,
    models,
    suites,
    multiplicity: src.summary ? src.summary.multiplicity : adjustForMultiplicity(suites),
    sequential: src.summary ? src.summary.sequential : plan.sequential,
    changedCases,
    changedCounts,
    redteam,
  });
}

/**
 * Each model's rows in turn (the baseline's kept): its per-suite summaries (unless the caller has
 * the run's summary), pooled figures and, for a candidate, its comparison and changed cases.
 */
async function eachModel(src: Source, criteria: AdoptionCriteria) {
  const { run, plan, baseline, basePm, toolFacts } = src;
  const base = await src.rowsOf(baseline);
  const baseScores = caseScores(base, bySuiteCase);
  const baseFirst = firstRepeats(base);
  const summaries = new Map<string, Map<string, ModelSummary>>();
  const overall = new Map<string, ModelOverall>();
  const compared = new Map<string, { c: PairedComparison | null; changed: Changed }>();
  const order = [basePm, ...plan.models.filter((m) => m !== basePm)];
  for (const [i, pm] of order.entries()) {
    const id = pm.config.id;
    const rows = id === baseline ? base : await src.rowsOf(id);
    if (!src.summary) {
      // summarise() on this model and the baseline gives this model's per-suite summaries, vsBaseline included.
      const part = summarise(
        { ...plan, models: id === baseline ? [basePm] : [basePm, pm] },
        run.id,
        id === baseline ? base : base.concat(rows),
        baseline,
        toolFacts ? { toolFacts } : {},
      );
      for (const s of part.suites) {
        const m = s.models.find((x) => x.id === id);
        if (m) summaries.set(s.name, (summaries.get(s.name) ?? new Map()).set(id, m));
      }
    }
    const scores = id === baseline ? baseScores : caseScores(rows, bySuiteCase);
    overall.set(
      id,
      modelOverall(id, rows, scores.values(), {
        usd: pm.price ? Number(sumPusdToUsd(rows.map((r) => r.costPusd ?? 0)).toFixed(9)) : null,
        source: pm.price ? (pm.price.source ?? null) : null,
      }),
    );
    if (id !== baseline) {
      const c = comparePairedByKey(scores, baseScores, undefined, pairedOptionsFor(plan, criteria)) ?? null;
      compared.set(id, { c, changed: changedOf(rows, baseFirst, 25) });
    }
    src.onModel?.(i + 1, order.length);
  }
  return { summaries, overall, compared };
}
