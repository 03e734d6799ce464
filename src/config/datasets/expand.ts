/**
 * Rows → cases. Each row's columns become the case's vars (beside the entry's own `vars`; a name in
 * both is an error, not a silent override). The entry's expectations, id, ideal and group are
 * templates over the row, rendered strictly with the suite's template code: a column the template
 * names but the row lacks (or holds null) is an error at the row's file:line. The rendered
 * expectations are then checked as if written inline, again at the row's file:line.
 */
import { UserError } from "../../util/errors.js";
import { type Expect, expectSchema } from "../suite-schema.js";
import { renderValue } from "../template.js";
import type { Row } from "./rows.js";
import type { RowSource } from "./source-schema.js";

export interface RowCase {
  id?: string;
  vars: Record<string, unknown>;
  expect: Expect[];
  ideal?: string;
  tags?: string[];
  group?: string;
  source: string;
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function missingColumn(row: Row, name: string, what: string, entry: string): UserError {
  const top = name.split(".")[0] as string;
  const has = Object.hasOwn(row.values, top);
  const columns = Object.keys(row.values);
  return new UserError(
    `${row.where}: ${has ? `column "${name}" is empty (null)` : `no column "${name}"`}, which the ${what} of the entry at ${entry} uses`,
    has ? "fill the value, or drop the row from the file" : `columns here: ${columns.slice(0, 12).join(", ")}${columns.length > 12 ? ", …" : ""}`,
  );
}

function renderDeep(v: unknown, vars: Record<string, unknown>, onMissing: (name: string) => never): unknown {
  if (typeof v === "string") {
    const r = renderValue(v, vars);
    return "missing" in r ? onMissing(r.missing) : r.value;
  }
  if (Array.isArray(v)) return v.map((x) => renderDeep(x, vars, onMissing));
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderDeep(x, vars, onMissing)]));
  return v;
}

/** Text-valued expectations whose `value` may come from a number or boolean column (a class id). */
const TEXT_VALUE = new Set(["label", "contains", "similarity"]);

/**
 * Column types meet expectation types: CSV cells are text, so a `number` expectation's numeric fields
 * accept numeric text; a Parquet class-label column is an integer, so a label's value accepts a number.
 */
function coerce(e: unknown): unknown {
  if (e === null || typeof e !== "object") return e;
  const out = { ...(e as Record<string, unknown>) };
  if (out.type === "number") {
    for (const k of ["value", "tolerance", "relativeTolerance"])
      if (typeof out[k] === "string" && NUMERIC.test((out[k] as string).trim())) out[k] = Number((out[k] as string).trim());
  } else if (TEXT_VALUE.has(String(out.type)) && (typeof out.value === "number" || typeof out.value === "boolean")) out.value = String(out.value);
  return out;
}

function checkExpectations(raw: unknown, row: Row, entry: string): Expect[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((e, i) => {
    const r = expectSchema.safeParse(coerce(e));
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const at = [...(list.length > 1 ? [i] : []), ...(issue?.path ?? [])].map(String).join(".");
    throw new UserError(
      `${row.where}: the expectation rendered from this row is not valid (${at ? `${at}: ` : ""}${issue?.message ?? "invalid"})`,
      `check the entry's expect at ${entry} against this row's values`,
    );
  });
}

function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function expandRows(entry: RowSource, rows: readonly Row[], at: string): RowCase[] {
  if (entry.expect === undefined)
    throw new UserError(`${at}: a file or hf entry needs an expect (it applies to every row)`, 'add e.g. expect: { type: label, value: "{{expected}}" }');
  const constants = Object.keys(entry.vars);
  return rows.map((row) => {
    const clash = constants.find((k) => Object.hasOwn(row.values, k));
    if (clash !== undefined) throw new UserError(`${row.where}: "${clash}" is both a column of this row and a var of the entry at ${at}`, "rename one of them");
    const vars = { ...entry.vars, ...row.values };
    const render = (v: unknown, what: string) =>
      renderDeep(v, vars, (name) => {
        throw missingColumn(row, name, what, at);
      });
    const id = entry.id === undefined ? undefined : text(render(entry.id, "id"));
    if (id === "") throw new UserError(`${row.where}: the case id rendered from this row is empty`, `check the entry's id at ${at}`);
    const group = entry.group === undefined ? undefined : text(render(entry.group, "group"));
    return {
      ...(id !== undefined ? { id } : {}),
      vars,
      expect: checkExpectations(render(entry.expect, "expect"), row, at),
      ...(entry.ideal !== undefined ? { ideal: text(render(entry.ideal, "ideal")) } : {}),
      ...(entry.tags ? { tags: entry.tags } : {}),
      ...(group !== undefined ? { group } : {}),
      source: row.where,
    };
  });
}
