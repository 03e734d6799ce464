/** JSON answers: json-schema (ajv) and json-match (expected fields). */
import { stableStringify } from "../../util/hash.js";
import { binary, type Grader } from "./types.js";

type AjvInstance = import("ajv").default;
let ajv: AjvInstance | undefined;

/** ajv is loaded on the first json-schema grade, not at start-up. */
async function getAjv(): Promise<AjvInstance> {
  if (!ajv) {
    const mod = await import("ajv");
    const Ctor = ((mod as unknown as { default?: unknown }).default ?? mod) as new (opts: object) => AjvInstance;
    ajv = new Ctor({ allErrors: false, strict: false });
  }
  return ajv;
}
const validators = new Map<string, ReturnType<AjvInstance["compile"]>>();

/** The first JSON value in a model answer: bare, or inside a ```json fence, or the first {...}/[...] span. */
export function extractJson(output: string): { ok: true; value: unknown } | { ok: false } {
  const candidates: string[] = [output.trim()];
  const fence = /```(?:json)?\s*([\s\S]*?)```/i.exec(output);
  if (fence?.[1]) candidates.push(fence[1].trim());
  for (const [open, close] of [
    ["{", "}"],
    ["[", "]"],
  ] as const) {
    const a = output.indexOf(open);
    const b = output.lastIndexOf(close);
    if (a >= 0 && b > a) candidates.push(output.slice(a, b + 1));
  }
  for (const c of candidates) {
    try {
      return { ok: true, value: JSON.parse(c) };
    } catch {
      /* next */
    }
  }
  return { ok: false };
}

export const jsonSchema: Grader<"json-schema"> = async (e, { output }) => {
  const parsed = extractJson(output);
  if (!parsed.ok) return binary("json-schema", false, { reason: "no JSON found in the answer" });
  const ajv = await getAjv();
  const key = stableStringify(e.schema);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(e.schema);
    validators.set(key, validate);
  }
  const ok = validate(parsed.value) as boolean;
  return binary("json-schema", ok, ok ? undefined : { reason: ajv.errorsText(validate.errors) });
};

function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a === "string" && typeof b === "string") return a.trim().toLowerCase() === b.trim().toLowerCase();
  return stableStringify(a) === stableStringify(b);
}

function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Every expected field (dot paths allowed) must be present and equal; score is the share that match. */
export const jsonMatch: Grader<"json-match"> = (e, { output }) => {
  const parsed = extractJson(output);
  const fields = Object.entries(e.value);
  if (!parsed.ok) return { type: "json-match", score: 0, pass: false, detail: { reason: "no JSON found in the answer" } };
  const mismatched = fields.filter(([k, v]) => !deepEqual(getPath(parsed.value, k), v)).map(([k]) => k);
  const score = fields.length === 0 ? 1 : (fields.length - mismatched.length) / fields.length;
  return { type: "json-match", score, pass: mismatched.length === 0, ...(mismatched.length ? { detail: { mismatched } } : {}) };
};
