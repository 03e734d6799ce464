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

/** The page: two run pickers in the URL, then the paired differences and each model's flipped cases. */
export function ComparePage() {
  const { query } = useLocation();
  const a = query.get("a") ?? "";
  const b = query.get("b") ?? "";
  const runs = useApi<{ runs: RunItem[] }>("/runs", { kind: "eval", limit: 200 });
  const res = useApi<CompareAnswer>(a && b ? "/compare" : null, { a, b });
  return (
    <div>
      <h1>Compare two runs</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <RunPicker k="a" value={a} other={b} runs={runs.data?.runs} /> → <RunPicker k="b" value={b} other={a} runs={runs.data?.runs} />
      </form>
      <Failure error={res.error ?? runs.error} />
      <Loading on={!!(a && b) && res.loading && !res.data} />
      {a && b && res.data && (
        <>
          <DifferencesTable models={res.data.models} />
          {res.data.models
            .filter((m) => m.changed.length)
            .map((m) => (
              <FlippedCases m={m} />
            ))}
        </>
      )}
    </div>
  );
}

/** Run A's or B's picker; choosing one keeps the other in the URL. */
function RunPicker({ k, value, other, runs }: { k: "a" | "b"; value: string; other: string; runs: RunItem[] | undefined }) {
  const pick = (v: string) => navigate(href("/compare", k === "a" ? { a: v, b: other } : { a: other, b: v }), true);
  return (
    <select aria-label={`run ${k}`} value={value} onChange={(e) => pick((e.target as HTMLSelectElement).value)}>
      <option value="">choose run {k.toUpperCase()}</option>
      {runs?.map((r) => (
        <option value={r.id}>
          {r.id} ({r.models.join(", ")})
        </option>
      ))}
    </select>
  );
}

type Compared = CompareAnswer["models"][number];

function DifferencesTable({ models }: { models: Compared[] }) {
  return (
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
          {models.map((m) => (
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
  );
}

function FlippedCases({ m }: { m: Compared }) {
  return (
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
  );
}
