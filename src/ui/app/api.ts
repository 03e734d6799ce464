/** The app's only way out: GET requests to its own origin's /api/v1. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") qs.set(k, String(v));
  const url = `/api/v1${path}${qs.size ? `?${qs}` : ""}`;
  const r = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
  const body = (await r.json().catch(() => ({}))) as { error?: string; hint?: string };
  if (!r.ok) throw new ApiFailure(r.status, `${body.error ?? r.statusText}${body.hint ? ` (${body.hint})` : ""}`);
  return body as T;
}

export function exportUrl(path: string, params: Record<string, string | number | undefined>, format: "csv" | "jsonl"): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "" && k !== "offset" && k !== "limit") qs.set(k, String(v));
  qs.set("format", format);
  qs.set("limit", "500");
  return `/api/v1${path}?${qs}`;
}
