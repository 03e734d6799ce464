/** The scoreboard view of the store: one snapshot's shares, both views, top models, movers, time series. */

import { loadOrigins } from "../hub/index.js";
import type { Snapshot } from "../records/index.js";
import type { StoreHandle } from "../store/index.js";
import { listSnapshots, loadSnapshotModels } from "../store/index.js";
import { UserError } from "../util/errors.js";
import {
  attributionCounts,
  derivativesByFamily,
  type GroupBy,
  type Metric,
  movers,
  type ShareRow,
  type SnapshotModel,
  shares,
  topModels,
} from "./analytics.js";
import { attribute, baseModelsFromTags } from "./attribute.js";

export interface ShowOptions {
  by: GroupBy;
  metric: Metric;
  snapshot?: string;
  since?: string;
  top: number;
}

export interface ShowResult {
  snapshot: string;
  snapshotId: string;
  source: string;
  by: GroupBy;
  metric: Metric;
  view: "base-model origin";
  total: number;
  rows: ShareRow[];
  byUploader: { total: number; rows: ShareRow[] };
  attribution: Record<string, number>;
  topModels: { id: string; downloads: number; likes: number; family: string | null; lab: string | null; country: string | null; method: string }[];
  derivativesByFamily: { family: string; derivatives: number; firstParty: number }[];
  movers?: { from: string; to: string; rows: { key: string; shareFrom: number; shareTo: number; delta: number }[] };
  series?: { times: string[]; keys: { key: string; shares: number[] }[] };
  originsAsOf: string;
}

async function attributed(store: StoreHandle, snapshotId: string): Promise<SnapshotModel[]> {
  const origins = loadOrigins();
  return (await loadSnapshotModels(store.db, snapshotId)).map((m) => ({
    id: m.id,
    author: m.author,
    downloads: m.downloads,
    likes: m.likes,
    attribution: attribute({ id: m.id, author: m.author, baseModels: baseModelsFromTags(m.tags) }, origins),
  }));
}

function pickSnapshot(all: Snapshot[], which?: string): Snapshot {
  if (all.length === 0) throw new UserError("no snapshots in the store yet", "run `weightbridge scoreboard ingest --from FILE` or `--from hub` first");
  if (!which || which === "latest") return all[all.length - 1] as Snapshot;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(which)) throw new UserError(`--snapshot must be "latest" or a date like 2026-08-01 (got "${which}")`);
  const same = all.filter((s) => s.takenAt.slice(0, 10) === which);
  const hit = same[same.length - 1];
  if (!hit)
    throw new UserError(`no snapshot on ${which}`, `snapshots run from ${all[0]?.takenAt.slice(0, 10)} to ${all[all.length - 1]?.takenAt.slice(0, 10)}`);
  return hit;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export async function showScoreboard(store: StoreHandle, o: ShowOptions): Promise<ShowResult> {
  const all = await listSnapshots(store.db);
  const snap = pickSnapshot(all, o.snapshot);
  const models = await attributed(store, snap.id);
  const origin = shares(models, o.by, o.metric, "origin");
  const uploader = shares(models, o.by, o.metric, "uploader");
  const result: ShowResult = {
    snapshot: snap.takenAt,
    snapshotId: snap.id,
    source: snap.source,
    by: o.by,
    metric: o.metric,
    view: "base-model origin",
    total: origin.total,
    rows: origin.rows.map((r) => ({ ...r, share: round(r.share) })),
    byUploader: { total: uploader.total, rows: uploader.rows.map((r) => ({ ...r, share: round(r.share) })) },
    attribution: attributionCounts(models),
    topModels: topModels(models, o.metric, o.top).map((m) => ({
      id: m.id,
      downloads: m.downloads,
      likes: m.likes,
      family: m.attribution.family,
      lab: m.attribution.lab,
      country: m.attribution.country,
      method: m.attribution.method,
    })),
    derivativesByFamily: derivativesByFamily(models),
    originsAsOf: loadOrigins().asOf,
  };
  if (o.since) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(o.since)) throw new UserError(`--since must be a date like 2026-03-01 (got "${o.since}")`);
    const range = all.filter((s) => s.takenAt.slice(0, 10) >= (o.since as string) && s.takenAt <= snap.takenAt);
    if (range.length === 0) throw new UserError(`no snapshots between ${o.since} and ${snap.takenAt.slice(0, 10)}`);
    const perSnap: ShareRow[][] = [];
    for (const s of range) perSnap.push(shares(await attributed(store, s.id), o.by, o.metric, "origin").rows);
    const first = range[0] as Snapshot;
    result.movers = {
      from: first.takenAt,
      to: snap.takenAt,
      rows: movers(perSnap[0] ?? [], origin.rows).map((m) => ({ ...m, shareFrom: round(m.shareFrom), shareTo: round(m.shareTo), delta: round(m.delta) })),
    };
    // Series: the groups with the largest mean share over the whole range, the rest as "other".
    const meanShare = new Map<string, number>();
    for (const rows of perSnap) for (const r of rows) meanShare.set(r.key, (meanShare.get(r.key) ?? 0) + r.share / perSnap.length);
    const topKeys = [...meanShare.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 7)
      .map(([k]) => k);
    const keys = topKeys.map((key) => ({ key, shares: perSnap.map((rows) => round(rows.find((r) => r.key === key)?.share ?? 0)) }));
    keys.push({ key: "other", shares: perSnap.map((rows) => round(rows.filter((r) => !topKeys.includes(r.key)).reduce((a, r) => a + r.share, 0))) });
    result.series = { times: range.map((s) => s.takenAt), keys };
  }
  return result;
}
