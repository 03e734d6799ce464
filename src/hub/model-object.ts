/**
 * Model objects from the Hub API (`/api/models`) or rows of a trending-list export, as plain values.
 * Optional fields may be missing; the id is required. Pure.
 */
import { z } from "zod";
import { UserError } from "../util/errors.js";

/** A model as the Hub lists it (the hub part owns this type; the store keeps snapshots of it). */
export interface HubModel {
  id: string;
  author: string;
  downloads: number;
  downloadsAllTime: number | null;
  likes: number;
  tags: string[];
  createdAt: string | null;
  libraryName: string | null;
  pipelineTag: string | null;
  parameters: number | null;
}

const count = z.number().int().nonnegative();
const hubObject = z.looseObject({
  id: z.string().nullish(),
  modelId: z.string().nullish(),
  author: z.string().nullish(),
  downloads: count.nullish(),
  downloadsAllTime: count.nullish(),
  likes: count.nullish(),
  tags: z.array(z.string()).nullish(),
  createdAt: z.string().nullish(),
  library_name: z.string().nullish(),
  pipeline_tag: z.string().nullish(),
  numParameters: count.nullish(),
  safetensors: z.looseObject({ total: count.optional() }).nullish(),
  snapshot: z.string().nullish(),
  rank: z.number().int().positive().nullish(),
});

export function toHubModel(v: z.infer<typeof hubObject>): HubModel | undefined {
  const id = v.id ?? v.modelId;
  if (!id?.includes("/")) return undefined;
  return {
    id,
    author: v.author ?? id.split("/")[0] ?? "",
    downloads: v.downloads ?? 0,
    downloadsAllTime: v.downloadsAllTime ?? null,
    likes: v.likes ?? 0,
    tags: v.tags ?? [],
    createdAt: v.createdAt ?? null,
    libraryName: v.library_name ?? null,
    pipelineTag: v.pipeline_tag ?? null,
    parameters: v.safetensors?.total ?? v.numParameters ?? null,
  };
}

export function parseHubModel(raw: unknown): HubModel | undefined {
  const r = hubObject.safeParse(raw);
  return r.success ? toHubModel(r.data) : undefined;
}

export interface ParsedSnapshot {
  takenAt: string;
  models: HubModel[];
}

/**
 * A JSONL file: rows with a `snapshot` time (trending exports; one snapshot per distinct time, in
 * rank order) or plain Hub model objects (one snapshot taken at `fallbackTime`).
 */
export function parseSnapshotsJsonl(text: string, file: string, fallbackTime: string): ParsedSnapshot[] {
  const groups = new Map<string, { rank: number; model: HubModel }[]>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`, "each line must be one JSON model object");
    }
    const r = hubObject.safeParse(raw);
    const model = r.success ? toHubModel(r.data) : undefined;
    if (!r.success || !model) {
      const why = r.success ? 'no "id" of the form org/name' : `${r.error.issues[0]?.path.join(".")}: ${r.error.issues[0]?.message}`;
      throw new UserError(`${file}:${i + 1}: not a Hub model object (${why})`, "lines must look like the Hub's /api/models answers");
    }
    const when = r.data.snapshot ? new Date(r.data.snapshot).toISOString() : fallbackTime;
    const list = groups.get(when) ?? [];
    list.push({ rank: r.data.rank ?? list.length + 1, model });
    groups.set(when, list);
  });
  return [...groups.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([takenAt, rows]) => ({ takenAt, models: rows.sort((a, b) => a.rank - b.rank).map((r) => r.model) }));
}
