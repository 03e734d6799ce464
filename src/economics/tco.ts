/**
 * Cost of self-hosting from a measured load test, and the monthly cost of each option for a
 * workload. Pure functions over numbers.
 */
import { readFileSync } from "node:fs";
import { packagePath } from "../util/package-root.js";
import type { LevelResult } from "./loadtest.js";
import type { TokenPrice } from "./money.js";

export const HOURS_PER_MONTH = 730;

export interface GpuPrice {
  gpu: string;
  hourlyUsd: number;
  offer: string;
  source: string;
  asOf: string;
}

export function loadGpuPrices(): GpuPrice[] {
  return (JSON.parse(readFileSync(packagePath("data", "gpus.json"), "utf8")) as { entries: GpuPrice[] }).entries;
}

/** The listed price of a GPU type, by name (case-insensitive). */
export function findGpuPrice(gpu: string): GpuPrice | undefined {
  return loadGpuPrices().find((g) => g.gpu.toLowerCase() === gpu.toLowerCase());
}

export interface Hosting {
  gpu: string;
  gpus: number;
  /** Per GPU. */
  hourlyUsd: number;
  source: string;
}

export interface Workload {
  requestsPerMonth: number;
  inputTokens: number;
  outputTokens: number;
}

/** The level to plan with: the highest throughput whose p95 latency meets the target (and ≤ 1% errors). */
export function pickLevel(levels: readonly LevelResult[], p95TargetMs?: number): { level: LevelResult; meetsTarget: boolean } | undefined {
  const usable = levels.filter((l) => l.errorRate <= 0.01 && l.outputTokensPerS > 0);
  if (usable.length === 0) return undefined;
  const ok = p95TargetMs === undefined ? usable : usable.filter((l) => (l.latencyMs.p95 ?? Number.POSITIVE_INFINITY) <= p95TargetMs);
  const pool = ok.length ? ok : usable;
  const best = [...pool].sort((a, b) => b.outputTokensPerS - a.outputTokensPerS)[0] as LevelResult;
  return { level: best, meetsTarget: ok.length > 0 };
}

export interface UnitCosts {
  usdPerHour: number;
  /** All compute attributed to output tokens. */
  usdPer1MOutputTokens: number;
  /** Compute spread over input and output tokens alike. */
  usdPer1MTokens: number;
}

export function selfHostUnitCosts(level: LevelResult, hosting: Hosting, utilisation: number): UnitCosts {
  const usdPerHour = hosting.hourlyUsd * hosting.gpus;
  const out = level.outputTokensPerS * utilisation * 3600;
  const all = (level.outputTokensPerS + level.inputTokensPerS) * utilisation * 3600;
  return { usdPerHour, usdPer1MOutputTokens: (usdPerHour / out) * 1e6, usdPer1MTokens: (usdPerHour / all) * 1e6 };
}

export interface ApiOption {
  name: string;
  price: TokenPrice;
  source: string;
}

export interface OptionCost {
  name: string;
  kind: "api" | "self-hosted";
  monthlyUsd: number;
  usdPerRequest: number;
  /** Self-hosted: replicas of the hosting spec and GPUs in all. */
  replicas?: number;
  gpus?: number;
  source: string;
}

export function apiMonthly(w: Workload, o: ApiOption): OptionCost {
  const perRequest = (w.inputTokens * o.price.input + w.outputTokens * o.price.output) / 1e6;
  return { name: o.name, kind: "api", monthlyUsd: perRequest * w.requestsPerMonth, usdPerRequest: perRequest, source: o.source };
}

/**
 * Replicas needed so that the workload's average output-token rate fits the measured throughput at
 * the planned utilisation (at least one replica). Token throughput is used rather than requests/s
 * because the bench's request shape and the workload's differ.
 */
export function selfHostedMonthly(name: string, w: Workload, level: LevelResult, hosting: Hosting, utilisation: number): OptionCost {
  const neededTokPerS = (w.requestsPerMonth * w.outputTokens) / (HOURS_PER_MONTH * 3600);
  const perReplica = level.outputTokensPerS * utilisation;
  const replicas = Math.max(1, Math.ceil(neededTokPerS / perReplica));
  const monthlyUsd = replicas * hosting.gpus * hosting.hourlyUsd * HOURS_PER_MONTH;
  return {
    name,
    kind: "self-hosted",
    monthlyUsd,
    usdPerRequest: w.requestsPerMonth > 0 ? monthlyUsd / w.requestsPerMonth : Number.POSITIVE_INFINITY,
    replicas,
    gpus: replicas * hosting.gpus,
    source: `${hosting.gpus}x ${hosting.gpu} at $${hosting.hourlyUsd}/GPU-hour (${hosting.source})`,
  };
}

/**
 * Requests per month at which one self-hosted replica costs the same as the API, or null when the
 * API stays cheaper even at one replica's full planned capacity.
 */
export function breakEvenRequestsPerMonth(w: Workload, api: ApiOption, level: LevelResult, hosting: Hosting, utilisation: number): number | null {
  const apiPerRequest = (w.inputTokens * api.price.input + w.outputTokens * api.price.output) / 1e6;
  if (apiPerRequest <= 0) return null;
  const replicaMonthly = hosting.gpus * hosting.hourlyUsd * HOURS_PER_MONTH;
  const capacity = (level.outputTokensPerS * utilisation * HOURS_PER_MONTH * 3600) / Math.max(1, w.outputTokens);
  const r = replicaMonthly / apiPerRequest;
  return r <= capacity ? Math.ceil(r) : null;
}
