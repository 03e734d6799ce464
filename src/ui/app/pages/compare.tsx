/** Compare two runs: per model present in both, the paired difference with its CI and p-value, and the cases that flipped. */
import { href, navigate, useLocation } from "../router.js";
import { pct } from "../text.js";
import { Card, Failure, Loading, Pre, Text } from "../ui.js";
import { useApi } from "../use-api.js";
import type { RunItem } from "./runs.js";

interface CompareAnswer {
  a: RunItem;
  b: RunItem;
  models: {
    modelA: string;
    modelB: string;
    a: { mean: number; ci95: [number, number] };
    b: { mean: number; ci95: [number, number] };
    comparison: { n: number; diff: number; ci95: [number, number]; pValue: number; test: string } | null;
    changed: { suite: string; caseId: string; direction: string; outputA: string | null; outputB: string | null }[];
  }[];
}

export function ComparePage() {
  const { query } = useLocation();
  const a = query.get("a") ?? "";
  const b = query.get("b") ?? "";
  const runs = useApi<{ runs: RunItem[] }>("/runs", { kind: "eval", limit: 200 });
  const res = useApi<CompareAnswer>(a && b ? "/compare" : null, { a, b });
  const pick = (k: "a" | "b", v: string) => navigate(href("/compare", { a, b, [k]: v }), true);
  const select = (k: "a" | "b", v: string) => (
    <select aria-label={`run ${k}`} value={v} onChange={(e) => pick(k, (e.target as HTMLSelectElement).value)}>
      <option value="">choose run {k.toUpperCase()}</option>
      {runs.data?.runs.map((r) => (
        <option value={r.id}>
          {r.id} ({r.models.join(", ")})
        </option>
      ))}
    </select>
  );
  return (
    <div>
      <h1>Compare two runs</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        {select("a", a)} → {select("b", b)}
      </form>
      <Failure error={res.error ?? runs.error} />
      <Loading on={!!(a && b) && res.loading && !res.data} />
      {a && b && res.data && (
        <>
          <Card title={`B − A per model (paired on the same cases)`}>
            <table class="grid">
              <thead>
                <tr>
                  <th>model</th>
                  <th class="num">n</th>
                  <th class="num">A</th>
                  <th class="num">B</th>
                  <th class="num">B − A</th>
                  <th class="num">95% CI</th>
                  <th class="num">p</th>
                  <th class="num">flipped</th>
                </tr>
              </thead>
              <tbody>
                {res.data.models.map((m) => (
                  <tr key={m.modelA}>
                    <td>
                      <Text value={m.modelA === m.modelB ? m.modelA : `${m.modelA} → ${m.modelB}`} />
                    </td>
                    <td class="num">{m.comparison?.n ?? 0}</td>
                    <td class="num">{pct(m.a.mean)}</td>
                    <td class="num">{pct(m.b.mean)}</td>
                    <td class="num">{m.comparison ? pct(m.comparison.diff) : "–"}</td>
                    <td class="num">{m.comparison ? `${pct(m.comparison.ci95[0])} – ${pct(m.comparison.ci95[1])}` : "–"}</td>
                    <td class="num">{m.comparison ? m.comparison.pValue.toFixed(3) : "–"}</td>
                    <td class="num">{m.changed.length}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          {res.data.models
            .filter((m) => m.changed.length)
            .map((m) => (
              <Card title={`Flipped cases: ${m.modelA}`}>
                {m.changed.map((c) => (
                  <div class="side">
                    <div class="output">
                      <h3>
                        <Text value={`${c.suite} ${c.caseId}`} /> · A <span class={`tag ${c.direction}`}>{c.direction}</span>
                      </h3>
                      <Pre value={c.outputA} />
                    </div>
                    <div class="output">
                      <h3>B</h3>
                      <Pre value={c.outputB} />
                    </div>
                  </div>
                ))}
              </Card>
            ))}
        </>
      )}
    </div>
  );
}
