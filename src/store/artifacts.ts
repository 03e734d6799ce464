/**
 * Stored artifacts: what `weightbridge scan` and `weightbridge lock` found about a model artifact,
 * when they run with a store (-c, --store or WEIGHTBRIDGE_DATABASE_URL), for the UI's artifacts and
 * model pages (migration 0009_ui_scale). The scan report, its ML-BOM (CycloneDX) and the lockfile are
 * kept whole as JSON; a small summary (licence, origin, finding counts) is kept beside them for lists.
 * The table is defined in tables.ts (migration 0009).
 */
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { isoNow } from "../util/iso-now.js";
import type { Database } from "./schema.js";
import { writeRows } from "./write.js";

type ArtifactsTable = Database["artifacts"];

export interface ArtifactRecord {
  id: string;
  kind: "scan" | "lock";
  /** The scanned or locked path, or hf:ORG/NAME[@REV]. */
  target: string;
  /** The Hub repository it is (or came from), when known. */
  repo: string | null;
  createdAt: string;
  /** scan: pass, review or fail; lock: null. */
  verdict: string | null;
  summary: Record<string, unknown>;
}

export interface StoredArtifact extends ArtifactRecord {
  report: unknown;
  bom: unknown | null;
}

const toRecord = (r: Omit<ArtifactsTable, "report_json" | "bom_json">): ArtifactRecord => ({
  id: r.id,
  kind: r.kind as ArtifactRecord["kind"],
  target: r.target,
  repo: r.repo,
  createdAt: r.created_at,
  verdict: r.verdict,
  summary: JSON.parse(r.summary_json) as Record<string, unknown>,
});

/** Store one artifact; returns its id (time-ordered, like run ids). */
export async function saveArtifact(
  db: Kysely<Database>,
  a: { kind: "scan" | "lock"; target: string; repo: string | null; verdict: string | null; summary: unknown; report: unknown; bom?: unknown },
): Promise<string> {
  const createdAt = isoNow();
  const id = `${a.kind}-${createdAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
  const row: ArtifactsTable = {
    id,
    kind: a.kind,
    target: a.target,
    repo: a.repo,
    created_at: createdAt,
    verdict: a.verdict,
    summary_json: JSON.stringify(a.summary),
    report_json: JSON.stringify(a.report),
    bom_json: a.bom === undefined ? null : JSON.stringify(a.bom),
  };
  await writeRows(db, [{ table: "artifacts", rows: [row], conflict: "fail" }]);
  return id;
}

const LIST = ["id", "kind", "target", "repo", "created_at", "verdict", "summary_json"] as const;

/** Newest first; `refs`: only artifacts whose repo or target is one of these. */
export async function listArtifacts(
  db: Kysely<Database>,
  opts: { limit: number; offset: number; kind?: "scan" | "lock"; refs?: string[] },
): Promise<ArtifactRecord[]> {
  let q = db.selectFrom("artifacts").select(LIST);
  if (opts.kind) q = q.where("kind", "=", opts.kind);
  const refs = opts.refs;
  if (refs) {
    if (refs.length === 0) return [];
    q = q.where((eb) => eb.or([eb("repo", "in", refs), eb("target", "in", refs)]));
  }
  const rows = await q.orderBy("created_at", "desc").orderBy("id", "desc").limit(opts.limit).offset(opts.offset).execute();
  return rows.map(toRecord);
}

export async function getArtifact(db: Kysely<Database>, id: string): Promise<StoredArtifact | undefined> {
  const r = await db.selectFrom("artifacts").selectAll().where("id", "=", id).executeTakeFirst();
  if (!r) return undefined;
  return { ...toRecord(r), report: JSON.parse(r.report_json), bom: r.bom_json === null ? null : JSON.parse(r.bom_json) };
}
