/** The runs list: every kind, newest first, filter and search, keyset pages; refreshes while a run is in flight. */
import { useState } from "preact/hooks";
import { href, navigate, useLocation } from "../router.js";
import { pct, usd, when } from "../text.js";
import { Exports, Failure, Loading, Text } from "../ui.js";
import { useApi } from "../use-api.js";

export interface RunItem {
  id: string;
  kind: string;
  createdAt: string;
  finishedAt: string | null;
  status: string;
  models: string[];
  suites: string[];
  baseline: string | null;
  planned: number | null;
  results: number;
  errors: number;
  costUsd: number | null;
}

type RunsParams = { kind?: string | undefined; status?: string | undefined; q?: string | undefined; cursor?: string | undefined; limit: number };

/** The page: filters in the URL, one keyset page of runs, re-read every 3 s while any shown run is running. */
export function RunsPage() {
  const { query } = useLocation();
  const params: RunsParams = {
    kind: query.get("kind") ?? undefined,
    status: query.get("status") ?? undefined,
    q: query.get("q") ?? undefined,
    cursor: query.get("cursor") ?? undefined,
    limit: 50,
  };
  const [anyRunning, setAnyRunning] = useState(false);
  const res = useApi<{ runs: RunItem[]; nextCursor: string | null }>("/runs", params, anyRunning ? 3000 : 0);
  const running = res.data?.runs.some((r) => r.status === "running") ?? false;
  if (running !== anyRunning) setAnyRunning(running);
  return (
    <div>
      <h1>Runs</h1>
      <RunFilters params={params} />
      <Failure error={res.error} />
      <Loading on={res.loading && !res.data} />
      {res.data && <RunsTable runs={res.data.runs} />}
      {res.data?.runs.length === 0 && <p class="muted">No runs match. Run `weightbridge eval` or `npm run demo` first.</p>}
      {res.data?.nextCursor && (
        <p>
          <a href={href("/", { ...params, limit: undefined, cursor: res.data.nextCursor })}>older runs →</a>
        </p>
      )}
    </div>
  );
}

function RunFilters({ params }: { params: RunsParams }) {
  const set = (k: string, v: string) => navigate(href("/", { ...params, cursor: undefined, limit: undefined, [k]: v }), true);
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      <input type="search" placeholder="search id, kind, config" value={params.q ?? ""} onChange={(e) => set("q", (e.target as HTMLInputElement).value)} />
      <select value={params.kind ?? ""} onChange={(e) => set("kind", (e.target as HTMLSelectElement).value)} aria-label="kind">
        <option value="">every kind</option>
        {["eval", "redteam", "bench"].map((k) => (
          <option value={k}>{k}</option>
        ))}
      </select>
      <select value={params.status ?? ""} onChange={(e) => set("status", (e.target as HTMLSelectElement).value)} aria-label="status">
        <option value="">any status</option>
        {["running", "completed", "interrupted", "failed"].map((k) => (
          <option value={k}>{k}</option>
        ))}
      </select>
      <Exports path="/runs" params={params} />
    </form>
  );
}

function RunsTable({ runs }: { runs: RunItem[] }) {
  return (
    <table class="grid">
      <thead>
        <tr>
          <th>run</th>
          <th>kind</th>
          <th>created</th>
          <th>status</th>
          <th>models</th>
          <th>suites</th>
          <th class="num">results</th>
          <th class="num">errors</th>
          <th class="num">cost</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id}>
            <td>
              <a href={`/runs/${encodeURIComponent(r.id)}`}>
                <Text value={r.id} />
              </a>
            </td>
            <td>{r.kind}</td>
            <td>{when(r.createdAt)}</td>
            <td>
              <span class={`status ${r.status}`}>{r.status}</span>
              {r.status !== "completed" && r.planned ? <span class="muted"> {pct(r.results / r.planned, 0)} done</span> : null}
            </td>
            <td>
              <Text value={r.models.join(", ")} clip={80} />
            </td>
            <td>
              <Text value={r.suites.join(", ")} clip={60} />
            </td>
            <td class="num">{r.results}</td>
            <td class="num">{r.errors}</td>
            <td class="num">{usd(r.costUsd)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
