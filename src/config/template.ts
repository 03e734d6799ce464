/** `{{var}}` / `{{ a.b }}` templates. A missing variable is an error, never an empty string. */
const TOKEN = /\{\{\s*([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*|\.\d+)*)\s*\}\}/g;

export function templateVars(template: string): string[] {
  return [...template.matchAll(TOKEN)].map((m) => m[1] as string);
}

function lookup(vars: Record<string, unknown>, path: string): unknown {
  let cur: unknown = vars;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
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
