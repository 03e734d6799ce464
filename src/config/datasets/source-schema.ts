/**
 * Case entries that read rows from a file or a Hub dataset. The entry's other fields apply to every
 * row; string fields (expect, id, ideal, group) are templates over the row's columns, rendered and
 * then checked row by row, so `expect` is only shape-checked here (its type name), fully per row.
 */
import { z } from "zod";

const str = z.string();
const sampling = {
  /** How many rows to use: the first ones, or a seeded sample when `seed` is set. */
  limit: z.int().positive().max(10_000_000).optional(),
  seed: z
    .int()
    .nonnegative()
    .max(2 ** 32 - 1)
    .optional(),
};

/** Built by suite-schema.ts, which owns the expectation types and message templates (no import cycle). */
export function rowSourceSchemas(expectTypes: readonly string[], messageTemplateSchema: z.ZodType<{ role: "system" | "user" | "assistant"; content: string }>) {
  const expectTemplate = z.looseObject({ type: z.enum(expectTypes as [string, ...string[]]) });
  const rowCaseFields = {
    id: str.min(1).optional(),
    vars: z.record(z.string(), z.unknown()).default({}),
    expect: z.union([expectTemplate, z.array(expectTemplate).min(1)]).optional(),
    ideal: str.optional(),
    tags: z.array(str).optional(),
    group: str.min(1).max(200).optional(),
    system: str.optional(),
    prompt: str.optional(),
    messages: z.array(messageTemplateSchema).min(1).optional(),
  };

  const fileSource = z.strictObject({
    file: str.min(1),
    format: z.enum(["csv", "tsv", "jsonl", "parquet"]).optional(),
    ...sampling,
    ...rowCaseFields,
  });
  const hfSource = z.strictObject({ hf: hfRefSchema, ...rowCaseFields });
  return { fileSource, hfSource };
}

export const hfRefSchema = z.strictObject({
  dataset: str.regex(/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/, "write the dataset as org/name"),
  config: str.regex(/^[\w.-]+$/).default("default"),
  split: str.regex(/^[\w.-]+$/).default("test"),
  revision: str.min(1).optional(),
  ...sampling,
});

type Schemas = ReturnType<typeof rowSourceSchemas>;
export type FileSource = z.infer<Schemas["fileSource"]>;
export type HfSource = z.infer<Schemas["hfSource"]>;
export type RowSource = FileSource | HfSource;

export const SOURCE_KEYS = ["file", "format", "hf", "limit", "seed", "system", "prompt", "messages"];
export const HF_KEYS = ["dataset", "config", "split", "revision", "limit", "seed"];

/** `{ file: cases.jsonl }` alone keeps its older meaning: each line is a whole case object. */
export function isCaseFile(e: RowSource): boolean {
  if (!("file" in e)) return false;
  const only = Object.entries(e).every(([k, v]) => k === "file" || (k === "vars" && Object.keys(v as object).length === 0) || v === undefined);
  return only && /\.jsonl$/i.test(e.file) && e.format === undefined;
}
