/** Small shared pieces of the pages: status line, error box, export links, pre-formatted hostile text. */
import type { ComponentChildren } from "preact";
import { exportUrl } from "./api.js";
import { visible } from "./text.js";

export function Failure({ error }: { error: string | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Loading({ on }: { on: boolean }) {
  return on ? <p class="muted">Loading…</p> : null;
}

/** Store text (model outputs, prompts) as text only, control characters made visible. */
export function Text({ value, clip }: { value: string | null | undefined; clip?: number }) {
  const v = visible(value);
  return <span class="text">{clip && v.length > clip ? `${v.slice(0, clip)}…` : v}</span>;
}

export function Pre({ value }: { value: string | null | undefined }) {
  return <pre class="out">{visible(value)}</pre>;
}

export function Exports({ path, params }: { path: string; params: Record<string, string | number | undefined> }) {
  return (
    <span class="exports">
      export:{" "}
      <a href={exportUrl(path, params, "csv")} download>
        CSV
      </a>{" "}
      ·{" "}
      <a href={exportUrl(path, params, "jsonl")} download>
        JSONL
      </a>
    </span>
  );
}

export function Card({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function Verdict({ v }: { v: string }) {
  return <span class={`verdict ${v}`}>{v}</span>;
}
