import type { Kysely } from "kysely";
import type { HubModel } from "../hub/index.js";
import type { Database, SnapshotModelsTable, SnapshotsTable } from "./schema.js";

export type { HubModel } from "../hub/index.js";

export interface Snapshot {
  id: string;
  takenAt: string;
  source: string;
  sort: string | null;
  models: number;
}

/** One snapshot and all its rows in one transaction: an interrupted ingest leaves nothing half-written. */
export async function saveSnapshot(db: Kysely<Database>, snap: Omit<Snapshot, "models">, models: HubModel[]): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const exists = await tx.selectFrom("snapshots").select("id").where("id", "=", snap.id).executeTakeFirst();
    if (exists) return false;
    await tx
      .insertInto("snapshots")
      .values({ id: snap.id, taken_at: snap.takenAt, source: snap.source, sort: snap.sort, models: models.length, ingested_at: new Date().toISOString() })
      .execute();
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
    for (let i = 0; i < rows.length; i += 200)
      await tx
        .insertInto("snapshot_models")
        .values(rows.slice(i, i + 200))
        .onConflict((oc) => oc.doNothing())
        .execute();
    return true;
  });
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
