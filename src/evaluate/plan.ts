/**
 * The plan: which cases, which models, how many repeats. It is stored with the run, so a resumed
 * run, `runs show` and `report` work from what was planned, not from a config that has since changed.
 */
import type { AgentSpec, DatasetProvenance, Expect, GenerationParams, ModelConfig, Project } from "../config/index.js";
import { type PriceEntry, type ResolvedPrice, resolvePrice } from "../economics/index.js";
import type { Message, ToolDefinition } from "../providers/index.js";
import { UserError } from "../util/errors.js";
import type { SequentialReport } from "./sequential.js";

export interface PlannedCase {
  index: number;
  id: string;
  messages: Message[];
  expects: Expect[];
  ideal?: string;
  vars: Record<string, unknown>;
  /** Cluster for the statistics (suite `group` / `groupBy`); absent: the case is its own unit. */
  group?: string;
  /** The runner plays the suite's tools with these mocks (attempt.ts). */
  agent?: AgentSpec;
  /** Scripted user messages, one after each answer that calls no tool. */
  turns?: string[];
}

export interface PlannedSuite {
  name: string;
  file: string;
  params: GenerationParams;
  /** Tools offered on every case of the suite. */
  tools?: ToolDefinition[];
  cases: PlannedCase[];
  /** Rows read from files and Hub datasets: path + sha256, or dataset/config/split + commit + file hashes. */
  datasets?: DatasetProvenance[];
}

export interface PlannedModel {
  config: ModelConfig;
  price: ResolvedPrice | null;
}

export interface Plan {
  version: 1;
  suites: PlannedSuite[];
  models: PlannedModel[];
  /** Judge / embedder models used by graders (may also be candidates). */
  helpers: PlannedModel[];
  baseline: string | undefined;
  judge: string | undefined;
  embedder: string | undefined;
  repeat: number;
  /** Non-inferiority margin on the quality ratio (report.criteria.minQualityRatio), when the config sets one. */
  margin?: number;
  /** `eval --until-decided`: where each suite stopped (written when the run ends; sequential.ts). */
  sequential?: SequentialReport;
  defaults: { params: GenerationParams; concurrency?: number; timeout?: string | number; retries?: number };
}

export interface PlanOptions {
  suites?: string[];
  models?: string[];
  repeat?: number;
  /** Prices imported into the store (`weightbridge prices import`), consulted after config prices. */
  prices?: readonly PriceEntry[];
}

export function buildPlan(project: Project, opts: PlanOptions = {}): Plan {
  const { config } = project;
  const allIds = project.models.map((m) => m.id);
  const pick = opts.models?.length ? opts.models : allIds;
  for (const id of pick) if (!allIds.includes(id)) throw new UserError(`--models: unknown model "${id}"`, `known models: ${allIds.join(", ")}`);
  const suiteNames = project.suites.map((s) => s.name);
  for (const s of opts.suites ?? [])
    if (!suiteNames.includes(s)) throw new UserError(`--suite: unknown suite "${s}"`, `known suites: ${suiteNames.join(", ")}`);
  const suites = project.suites.filter((s) => !opts.suites?.length || opts.suites.includes(s.name));
  const withPrice = (m: ModelConfig): PlannedModel => ({ config: m, price: resolvePrice(m as never, opts.prices) });
  const models = project.models.filter((m) => pick.includes(m.id)).map(withPrice);
  const helperIds = new Set<string>();
  for (const s of suites)
    for (const c of s.cases)
      for (const e of c.expects) {
        if (e.type === "llm-judge" || (e.type === "redteam" && e.judgeRubric)) {
          const id = e.model ?? config.judge;
          if (!id) throw new UserError(`${c.source}: llm-judge needs a judge model`, "set `judge: MODEL_ID` in the config or `model:` on this expect");
          helperIds.add(id);
        }
        if (e.type === "similarity") {
          const id = e.model ?? config.embedder;
          if (!id)
            throw new UserError(`${c.source}: similarity needs an embeddings model`, "set `embedder: MODEL_ID` in the config or `model:` on this expect");
          helperIds.add(id);
        }
      }
  for (const id of helperIds)
    if (!allIds.includes(id)) throw new UserError(`judge/embedder model "${id}" is not in the config's models`, `known models: ${allIds.join(", ")}`);
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) throw new UserError(`--repeat must be a whole number from 1 to 100 (got ${repeat})`);
  const baseline = config.baseline && pick.includes(config.baseline) ? config.baseline : undefined;
  return {
    version: 1,
    suites: suites.map((s) => ({
      name: s.name,
      file: s.file,
      params: s.params,
      ...(s.tools ? { tools: s.tools } : {}),
      cases: s.cases.map((c) => ({
        index: c.index,
        id: c.id,
        messages: c.messages,
        expects: c.expects,
        vars: c.vars,
        ...(c.ideal !== undefined ? { ideal: c.ideal } : {}),
        ...(c.group !== undefined ? { group: c.group } : {}),
        ...(c.agent ? { agent: c.agent } : {}),
        ...(c.turns ? { turns: c.turns } : {}),
      })),
      ...(s.datasets ? { datasets: s.datasets } : {}),
    })),
    models,
    helpers: project.models.filter((m) => helperIds.has(m.id)).map(withPrice),
    baseline,
    judge: config.judge,
    embedder: config.embedder,
    repeat,
    ...(config.report?.criteria?.minQualityRatio !== undefined ? { margin: config.report.criteria.minQualityRatio } : {}),
    defaults: {
      params: config.defaults?.params ?? {},
      ...(config.defaults?.concurrency ? { concurrency: config.defaults.concurrency } : {}),
      ...(config.defaults?.timeout !== undefined ? { timeout: config.defaults.timeout } : {}),
      ...(config.defaults?.retries !== undefined ? { retries: config.defaults.retries } : {}),
    },
  };
}

export function planSize(plan: Plan): number {
  return plan.suites.reduce((a, s) => a + s.cases.length, 0) * plan.models.length * plan.repeat;
}
