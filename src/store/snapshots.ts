/** Scoreboard snapshots: the scoreboard's Snapshot (src/records/) and hub's HubModel mapped to rows and back. */
import type { Kysely } from "kysely";
import type { HubModel } from "../hub/index.js";
import type { Snapshot } from "../records/index.js";
import type { Database, SnapshotModelsTable, SnapshotsTable } from "./schema.js";
import { writeRows } from "./write.js";

export type { HubModel } from "../hub/index.js";

/**
 * One snapshot and all its rows in one transaction: an interrupted ingest leaves nothing half-written.
 * False when the snapshot is already stored (its rows are not written again).
 */
export async function saveSnapshot(db: Kysely<Database>, snap: Omit<Snapshot, "models">, models: HubModel[]): Promise<boolean> {
  const exists = await db.selectFrom("snapshots").select("id").where("id", "=", snap.id).executeTakeFirst();
  if (exists) return false;
  const head: SnapshotsTable = {
    id: snap.id,
    taken_at: snap.takenAt,
    source: snap.source,
    sort: snap.sort,
    models: models.length,
    ingested_at: new Date().toISOString(),
  };
  const rows: SnapshotModelsTable[] = models.map((m, i) => ({
    snapshot_id: snap.id,
    rank: i + 1,
    model_id: m.id,
    author: m.author,
    downloads: m.downloads,
    downloads_all_time: m.downloadsAllTime,
    likes: m.likes,
    tags_json: JSON.stringify(m.tags),
    created_at: m.createdAt,
    library_name: m.libraryName,
    pipeline_tag: m.pipelineTag,
    parameters: m.parameters,
  }));
  // A snapshot stored meanwhile by another process: its head row's key is taken and the whole write fails.
  await writeRows(db, [
    { table: "snapshots", rows: [head], conflict: "fail" },
    { table: "snapshot_models", rows, conflict: "ignore" },
  ]);
  return true;
}

function toSnapshot(r: SnapshotsTable): Snapshot {
  return { id: r.id, takenAt: r.taken_at, source: r.source, sort: r.sort, models: r.models };
}

export async function listSnapshots(db: Kysely<Database>): Promise<Snapshot[]> {
  return (await db.selectFrom("snapshots").selectAll().orderBy("taken_at").orderBy("id").execute()).map(toSnapshot);
}

export async function loadSnapshotModels(db: Kysely<Database>, snapshotId: string): Promise<HubModel[]> {
  const rows = await db.selectFrom("snapshot_models").selectAll().where("snapshot_id", "=", snapshotId).orderBy("rank").execute();
  return rows.map((r) => ({
    id: r.model_id,
    author: r.author,
    downloads: Number(r.downloads),
    downloadsAllTime: r.downloads_all_time === null ? null : Number(r.downloads_all_time),
    likes: r.likes,
    tags: JSON.parse(r.tags_json) as string[],
    createdAt: r.created_at,
    libraryName: r.library_name,
    pipelineTag: r.pipeline_tag,
    parameters: r.parameters === null ? null : Number(r.parameters),
  }));
}
