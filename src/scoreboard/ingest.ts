/** Snapshots into the store: from a JSONL file or from the Hub. One transaction per snapshot. */
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { type ListModelsOptions, listModels, parseSnapshotsJsonl } from "../hub/index.js";
import type { StoreHandle } from "../store/index.js";
import { saveSnapshot } from "../store/index.js";
import { UserError } from "../util/errors.js";

export interface IngestResult {
  snapshots: number;
  skipped: number;
  models: number;
}

export async function ingestFile(store: StoreHandle, file: string, opts: { at?: string } = {}): Promise<IngestResult> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`, "check the path given to --from");
  }
  const fallback = opts.at ?? statSync(file).mtime.toISOString();
  const snaps = parseSnapshotsJsonl(text, file, fallback);
  let added = 0;
  let skipped = 0;
  let models = 0;
  for (const s of snaps) {
    const ok = await saveSnapshot(
      store.db,
      { id: `file:${basename(file)}@${s.takenAt}`, takenAt: s.takenAt, source: `file ${basename(file)}`, sort: null },
      s.models,
    );
    if (ok) {
      added++;
      models += s.models.length;
    } else skipped++;
  }
  return { snapshots: added, skipped, models };
}

export async function ingestHub(store: StoreHandle, opts: ListModelsOptions): Promise<IngestResult> {
  const takenAt = new Date().toISOString();
  // Everything is listed first and written in one transaction: Ctrl-C while paging writes nothing.
  const models = await listModels(opts);
  const source = `hub${opts.author ? ` author=${opts.author}` : ""}${opts.filter ? ` filter=${opts.filter}` : ""}`;
  await saveSnapshot(store.db, { id: `hub:${opts.sort ?? "downloads"}@${takenAt}`, takenAt, source, sort: opts.sort ?? "downloads" }, models);
  return { snapshots: 1, skipped: 0, models: models.length };
}
