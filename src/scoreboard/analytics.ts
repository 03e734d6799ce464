/** Scoreboard analytics over attributed snapshot rows. Pure. */
import type { Attribution } from "./attribute.js";

export type GroupBy = "country" | "lab" | "family" | "uploader";
export type Metric = "downloads" | "models" | "likes" | "derivatives";
export type View = "origin" | "uploader";

export interface SnapshotModel {
  id: string;
  author: string;
  downloads: number;
  likes: number;
  attribution: Attribution;
}

export interface ShareRow {
  key: string;
  downloads: number;
  likes: number;
  models: number;
  derivatives: number;
  share: number;
}

export const UNKNOWN = "unknown";

/** The group a model falls in. View "origin" uses the base model's lab; "uploader" the publisher. */
export function groupKey(m: SnapshotModel, by: GroupBy, view: View): string {
  const a = m.attribution;
  if (by === "uploader") return a.uploader || UNKNOWN;
  if (view === "uploader") {
    if (by === "country") return a.uploaderCountry ?? UNKNOWN;
    if (by === "lab") return a.uploaderLab ?? a.uploader ?? UNKNOWN;
    return a.derivative ? UNKNOWN : (a.family ?? UNKNOWN); // family of the uploader's own models only
  }
  if (by === "country") return a.country ?? UNKNOWN;
  if (by === "lab") return a.lab ?? UNKNOWN;
  return a.family ?? UNKNOWN;
}

function metricOf(r: Omit<ShareRow, "share">, metric: Metric): number {
  return metric === "models" ? r.models : metric === "derivatives" ? r.derivatives : r[metric];
}

/** Per-group totals and shares for one snapshot; rows sum to the total, shares to 1. */
export function shares(models: readonly SnapshotModel[], by: GroupBy, metric: Metric, view: View = "origin"): { rows: ShareRow[]; total: number } {
  const acc = new Map<string, Omit<ShareRow, "share">>();
  for (const m of models) {
    const key = groupKey(m, by, view);
    const r = acc.get(key) ?? { key, downloads: 0, likes: 0, models: 0, derivatives: 0 };
    r.downloads += m.downloads;
    r.likes += m.likes;
    r.models += 1;
    if (m.attribution.derivative) r.derivatives += 1;
    acc.set(key, r);
  }
  const list = [...acc.values()];
  const total = list.reduce((a, r) => a + metricOf(r, metric), 0);
  const rows = list
    .map((r) => ({ ...r, share: total > 0 ? metricOf(r, metric) / total : 0 }))
    .sort((a, b) => metricOf(b, metric) - metricOf(a, metric) || a.key.localeCompare(b.key));
  return { rows, total };
}

export function topModels(models: readonly SnapshotModel[], metric: Metric, n: number): SnapshotModel[] {
  const value = (m: SnapshotModel) => (metric === "likes" ? m.likes : m.downloads);
  return [...models].sort((a, b) => value(b) - value(a) || a.id.localeCompare(b.id)).slice(0, n);
}

export interface Mover {
  key: string;
  shareFrom: number;
  shareTo: number;
  delta: number;
}

/** Change of each group's share between two snapshots, biggest movers first. */
export function movers(from: readonly ShareRow[], to: readonly ShareRow[]): Mover[] {
  const keys = new Set([...from.map((r) => r.key), ...to.map((r) => r.key)]);
  const get = (rows: readonly ShareRow[], k: string) => rows.find((r) => r.key === k)?.share ?? 0;
  return [...keys]
    .map((key) => ({ key, shareFrom: get(from, key), shareTo: get(to, key), delta: get(to, key) - get(from, key) }))
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.key.localeCompare(b.key));
}

/** How many rows each attribution method attributed. */
export function attributionCounts(models: readonly SnapshotModel[]): Record<string, number> {
  const out: Record<string, number> = { "first-party": 0, "base_model tag": 0, "name match": 0, unknown: 0 };
  for (const m of models) out[m.attribution.method] = (out[m.attribution.method] ?? 0) + 1;
  return out;
}

/** Derivative models (published by someone other than the lab) per family. */
export function derivativesByFamily(models: readonly SnapshotModel[]): { family: string; derivatives: number; firstParty: number }[] {
  const acc = new Map<string, { family: string; derivatives: number; firstParty: number }>();
  for (const m of models) {
    const family = m.attribution.family ?? UNKNOWN;
    const r = acc.get(family) ?? { family, derivatives: 0, firstParty: 0 };
    if (m.attribution.derivative) r.derivatives++;
    else r.firstParty++;
    acc.set(family, r);
  }
  return [...acc.values()].sort((a, b) => b.derivatives + b.firstParty - (a.derivatives + a.firstParty) || a.family.localeCompare(b.family));
}
