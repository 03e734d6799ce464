/**
 * Grader definitions checked when a suite loads, so a broken regex, a JSON schema ajv cannot compile
 * or an empty label is a file:line error before any request is sent (not a "grading failed" on every
 * case after the money is spent).
 */
import { createRequire } from "node:module";
import { UserError } from "../util/errors.js";
import type { Expect } from "./suite-schema.js";

type AjvInstance = import("ajv").default;
let ajv: AjvInstance | undefined;
/** Loaded on the first json-schema expectation only (ajv costs start-up time). */
function getAjv(): AjvInstance {
  if (!ajv) {
    const mod = createRequire(import.meta.url)("ajv") as { default?: unknown };
    const Ctor = (mod.default ?? mod) as new (opts: object) => AjvInstance;
    ajv = new Ctor({ allErrors: false, strict: false });
  }
  return ajv;
}

/** Keys of definitions already checked (a suite of 50,000 cases usually repeats a handful). */
const checked = new Set<string>();

function checkRegex(e: Extract<Expect, { type: "regex" }>, source: string): void {
  try {
    new RegExp(e.pattern, e.flags ?? "");
  } catch (err) {
    throw new UserError(
      `${source}: regex expectation: invalid pattern /${e.pattern}/${e.flags ?? ""} (${(err as Error).message})`,
      "fix the pattern (JavaScript syntax); escape \\ in YAML double quotes",
    );
  }
}

function checkSchema(e: Extract<Expect, { type: "json-schema" }>, source: string): void {
  try {
    getAjv().compile(e.schema);
  } catch (err) {
    throw new UserError(
      `${source}: json-schema expectation: the schema is not valid (${(err as Error).message})`,
      "check it against JSON Schema draft-07 (types, required, properties)",
    );
  }
}

export function checkExpect(e: Expect, source: string): void {
  const key = JSON.stringify(e);
  if (checked.has(key)) return;
  if (e.type === "regex") checkRegex(e, source);
  else if (e.type === "json-schema") checkSchema(e, source);
  else if (e.type === "label" && e.value.trim().replace(/^["'`*\s]+|["'`*.\s]+$/g, "") === "")
    throw new UserError(`${source}: label expectation has an empty label`, "give the label the model should answer, e.g. { type: label, value: billing }");
  checked.add(key);
}
