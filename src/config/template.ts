/**
 * `{{var}}` / `{{ a.b }}` templates. A missing variable is an error, never an empty string.
 * Names are Unicode identifiers (`{{消息}}`, `{{café}}`); a `{{…}}` that is not a variable reference
 * is a load-time error (it would otherwise be sent literally for every case).
 */
const NAME = String.raw`[\p{ID_Start}_][\p{ID_Continue}]*`;
const PATH = String.raw`${NAME}(?:\.${NAME}|\.\d+)*`;
const TOKEN = new RegExp(String.raw`\{\{\s*(${PATH})\s*\}\}`, "gu");
/** Anything that looks like a placeholder, well-formed or not. */
const ANY_PLACEHOLDER = /\{\{[\s\S]*?\}\}/g;

export function templateVars(template: string): string[] {
  return [...template.matchAll(TOKEN)].map((m) => m[1] as string);
}

/** The first `{{…}}` in a template that is not a valid variable reference, if any. */
export function malformedPlaceholder(template: string): string | undefined {
  return template.replace(TOKEN, "").match(ANY_PLACEHOLDER)?.[0];
}

function lookup(vars: Record<string, unknown>, path: string): unknown {
  let cur: unknown = vars;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Returns the rendered text, or the name of the first missing variable. */
export function renderTemplate(template: string, vars: Record<string, unknown>): { text: string } | { missing: string } {
  let missing: string | undefined;
  const text = template.replace(TOKEN, (_, name: string) => {
    const v = lookup(vars, name);
    if (v === undefined || v === null) {
      missing ??= name;
      return "";
    }
    return typeof v === "string" ? v : JSON.stringify(v);
  });
  return missing === undefined ? { text } : { missing };
}

const WHOLE = new RegExp(String.raw`^\{\{\s*(${PATH})\s*\}\}$`, "u");

/**
 * A field templated from data: a string that is exactly one placeholder takes the variable's value
 * with its type (a number stays a number); any other string is rendered as text. Missing: its name.
 */
export function renderValue(template: string, vars: Record<string, unknown>): { value: unknown } | { missing: string } {
  const whole = WHOLE.exec(template);
  if (!whole) {
    const r = renderTemplate(template, vars);
    return "text" in r ? { value: r.text } : r;
  }
  const name = whole[1] as string;
  const v = lookup(vars, name);
  return v === undefined || v === null ? { missing: name } : { value: v };
}
