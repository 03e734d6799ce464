/** The Report: everything the renderers show, computed once from the store. Versioned. */

import type { DecisionRecord, ModelSummary, Multiplicity, SequentialReport, SuiteSummary } from "../evaluate/index.js";

export interface AdoptionCriteria {
  /** The lower bound of the quality ratio's 95% CI must reach this (default 0.9). */
  minQualityRatio: number;
  /** Candidate cost / baseline cost must not exceed this (default 0.5). */
  maxCostRatio: number;
  /** Above this share of failed requests (candidate or baseline) the verdict is ERROR, before any quality judgement (default 0.05). */
  maxErrorRate: number;
}

export const DEFAULT_CRITERIA: AdoptionCriteria = { minQualityRatio: 0.9, maxCostRatio: 0.5, maxErrorRate: 0.05 };

/** incomplete: the run did not finish; error: too many requests failed to judge quality. */
export type Verdict = "adopt" | "reject" | "inconclusive" | "incomplete" | "error";

export interface CandidateRow {
  id: string;
  qualityRatio: number | null;
  qualityRatioCi95: [number, number] | null;
  pValue: number | null;
  diff: number | null;
  costRatio: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  errorRate: number;
  verdict: Verdict;
  reason: string;
}

export interface ModelOverall {
  id: string;
  cases: number;
  score: number;
  scoreCi95: [number, number];
  costUsd: number | null;
  /** Where the cost comes from: a price source, or the self-hosted TCO from a bench run. */
  costSource: string | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  errorRate: number;
  /** The first stored error of this model's requests, in one line (null when none failed). */
  firstError: string | null;
  /** On the quality-vs-cost Pareto frontier (priced models only). */
  pareto: boolean;
}

export interface ChangedCase {
  candidate: string;
  suite: string;
  caseId: string;
  direction: "regression" | "improvement";
  input: string;
  baselineOutput: string | null;
  candidateOutput: string | null;
  baselineScore: number;
  candidateScore: number;
}

export interface Report {
  version: 1;
  /** Which run kind this report is about (bench and red-team runs have their own reports). */
  kind: "eval";
  runId: string;
  createdAt: string;
  status: string;
  /** Requests finished of those planned: an unfinished run's verdicts are INCOMPLETE. */
  completion: { done: number; total: number };
  /** Models whose answers came from `weightbridge simulate` (not a real model): the report says so. */
  simulated: string[];
  /** SHA-256 of the config, suites and model locks, and the weightbridge version: the decision can be audited and reproduced. */
  record: DecisionRecord;
  baseline: string;
  criteria: AdoptionCriteria;
  candidates: CandidateRow[];
  models: ModelOverall[];
  suites: { name: string; cases: number; models: ModelSummary[] }[];
  changedCases: ChangedCase[];
  /** How the per-suite p-values were adjusted for the run's several comparisons (verdict intervals are not). */
  multiplicity?: Multiplicity;
  /** `eval --until-decided` runs: where each suite stopped and why. */
  sequential?: SequentialReport;
  /** The latest red-team run covering the report's models, when there is one. */
  redteam?: {
    runId: string;
    createdAt: string;
    packs: { pack: string; models: { id: string; attacks: number; successes: number; rate: number; ci95: [number, number]; pValue: number | null }[] }[];
  };
  /** Artifact vetting: `weightbridge scan --format json` reports passed with `report --scan`. */
  artifacts?: ArtifactSummary[];
  /** How many changed cases exist per candidate and direction (the list may be capped). */
  changedCounts: Record<string, { regressions: number; improvements: number }>;
}

export interface ArtifactSummary {
  target: string;
  verdict: string;
  reasons: string[];
  files: number;
  license: { id: string; name?: string; commercial?: string };
  origin: { lab: string | null; country: string | null; chain: string[] } | null;
  counts: Record<string, number>;
  /** The most severe findings (at most five). */
  top: { severity: string; rule: string; file: string; message: string }[];
}

export type { ModelSummary, SuiteSummary };
