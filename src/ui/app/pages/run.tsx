/** A run: the adoption view for an eval run (the Report from src/report), the summary for other kinds. */
import { useState } from "preact/hooks";
import { LatencyChart, QualityCostChart } from "../charts.js";
import { enc, href, useLocation } from "../router.js";
import { msf, pct, usd, when } from "../text.js";
import { Card, Failure, Loading, Text, Verdict } from "../ui.js";
import { useApi } from "../use-api.js";
import type { RunItem } from "./runs.js";

interface Candidate {
  id: string;
  qualityRatio: number | null;
  qualityRatioCi95: [number, number] | null;
  pValue: number | null;
  costRatio: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  errorRate: number;
  verdict: string;
  reason: string;
}
interface ModelOverall {
  id: string;
  cases: number;
  score: number;
  scoreCi95: [number, number];
  costUsd: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  errorRate: number;
  pareto: boolean;
}
interface SuiteModel {
  id: string;
  n: number;
  errors: number;
  score: { mean: number; ci95: [number, number] };
  vsBaseline?: { qualityRatio: number | null; qualityRatioCi95: [number, number] | null; pValue: number; diff: number };
  /** Suites with tools: tool-call fidelity (docs/json-output.md, `toolCalls`). */
  toolCalls?: {
    answers: number;
    withCall: number | null;
    wellFormed: number | null;
    argumentsJson: number | null;
    argumentsValid: number | null;
    asText: number | null;
    asTextFormats: Record<string, number>;
    hint?: string;
  };
}
export interface Report {
  baseline: string;
  candidates: Candidate[];
  models: ModelOverall[];
  suites: { name: string; cases: number; models: SuiteModel[] }[];
  changedCounts: Record<string, { regressions: number; improvements: number }>;
  redteam?: { runId: string };
}
interface RunAnswer {
  run: RunItem;
  report?: Report;
  summary?: { baseline: string | null; suites: { name: string; cases: number; models: SuiteModel[] }[] };
  benchLevels?: Record<string, unknown>[];
}

const ci = (c: [number, number] | null | undefined) => (c ? `${pct(c[0])} – ${pct(c[1])}` : "–");

type CasesHref = (params: Record<string, string>) => string;

/** An eval run's adoption view: verdicts, the quality/cost and latency charts, pooled models, per suite, the red-team link. */
function Adoption({ run, report }: { run: RunItem; report: Report }) {
  const cases: CasesHref = (params) => href(`/runs/${enc(run.id)}/cases`, params);
  return (
    <>
      <CandidatesTable report={report} cases={cases} />
      <AdoptionCharts models={report.models} />
      <ModelsTable models={report.models} cases={cases} />
      <SuitesTable runId={run.id} suites={report.suites} />
      {report.redteam ? (
        <p>
          Red-team: <a href={`/runs/${enc(report.redteam.runId)}/redteam`}>run {report.redteam.runId}</a>
        </p>
      ) : null}
    </>
  );
}

/** One row per candidate with its verdict and links to its changed cases, its reason on the row below. */
function CandidatesTable({ report, cases }: { report: Report; cases: CasesHref }) {
  return (
    <Card title={`Adoption vs ${report.baseline}`}>
      <table class="grid">
        <thead>
          <tr>
            <th>candidate</th>
            <th>verdict</th>
            <th class="num">quality ratio</th>
            <th class="num">95% CI</th>
            <th class="num">p</th>
            <th class="num">cost ratio</th>
            <th class="num">p50</th>
            <th class="num">errors</th>
            <th>changed cases</th>
          </tr>
        </thead>
        <tbody>
          {report.candidates.map((c) => (
            <>
              <tr key={c.id}>
                <td>
                  <Text value={c.id} />
                </td>
                <td>
                  <Verdict v={c.verdict} />
                </td>
                <td class="num">{pct(c.qualityRatio)}</td>
                <td class="num">{ci(c.qualityRatioCi95)}</td>
                <td class="num">{c.pValue === null ? "–" : c.pValue < 0.001 ? "<0.001" : c.pValue.toFixed(3)}</td>
                <td class="num">{pct(c.costRatio)}</td>
                <td class="num">{msf(c.latencyP50Ms)}</td>
                <td class="num">{pct(c.errorRate)}</td>
                <td>
                  <a href={cases({ model: c.id, filter: "regressions" })}>{report.changedCounts[c.id]?.regressions ?? 0} worse</a> ·{" "}
                  <a href={cases({ model: c.id, filter: "improvements" })}>{report.changedCounts[c.id]?.improvements ?? 0} better</a>
                </td>
              </tr>
              <tr class="reason">
                <td colSpan={9}>
                  <Text value={c.reason} />
                </td>
              </tr>
            </>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

function AdoptionCharts({ models }: { models: ModelOverall[] }) {
  return (
    <div class="row">
      <Card title="Quality vs cost (95% CI bars, Pareto frontier dashed)">
        <QualityCostChart
          points={models
            .filter((m) => m.costUsd !== null)
            .map((m) => ({ id: m.id, cost: m.costUsd as number, quality: m.score, ci: m.scoreCi95, pareto: m.pareto }))}
        />
      </Card>
      <Card title="Latency">
        <LatencyChart rows={models.map((m) => ({ id: m.id, p50: m.latencyP50Ms, p95: m.latencyP95Ms, ttft: m.ttftP50Ms }))} />
      </Card>
    </div>
  );
}

function ModelsTable({ models, cases }: { models: ModelOverall[]; cases: CasesHref }) {
  return (
    <Card title="Models (pooled over suites)">
      <table class="grid">
        <thead>
          <tr>
            <th>model</th>
            <th class="num">cases</th>
            <th class="num">score</th>
            <th class="num">95% CI</th>
            <th class="num">cost</th>
            <th class="num">p50</th>
            <th class="num">p95</th>
            <th class="num">TTFT</th>
            <th class="num">errors</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m.id}>
              <td>
                <a href={cases({ model: m.id })}>
                  <Text value={m.id} />
                </a>
                {m.pareto ? <span class="tag">Pareto</span> : null}{" "}
                <a class="tag" href={`/model?ref=${encodeURIComponent(m.id)}`} title="this model's scans, evals and red-team runs">
                  model
                </a>
              </td>
              <td class="num">{m.cases}</td>
              <td class="num">{pct(m.score)}</td>
              <td class="num">{ci(m.scoreCi95)}</td>
              <td class="num">{usd(m.costUsd)}</td>
              <td class="num">{msf(m.latencyP50Ms)}</td>
              <td class="num">{msf(m.latencyP95Ms)}</td>
              <td class="num">{msf(m.ttftP50Ms)}</td>
              <td class="num">
                <a href={cases({ model: m.id, filter: "errors" })}>{pct(m.errorRate)}</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

function SuitesTable({ runId, suites }: { runId: string; suites: { name: string; cases: number; models: SuiteModel[] }[] }) {
  return (
    <Card title="Per suite">
      <table class="grid">
        <thead>
          <tr>
            <th>suite</th>
            <th>model</th>
            <th class="num">n</th>
            <th class="num">score</th>
            <th class="num">95% CI</th>
            <th class="num">vs baseline</th>
            <th class="num">p</th>
            <th class="num">errors</th>
          </tr>
        </thead>
        <tbody>
          {suites.flatMap((s) =>
            s.models.map((m) => (
              <tr key={`${s.name}/${m.id}`}>
                <td>
                  <a href={href(`/runs/${enc(runId)}/cases`, { suite: s.name })}>
                    <Text value={s.name} />
                  </a>
                </td>
                <td>
                  <Text value={m.id} />
                </td>
                <td class="num">{m.n}</td>
                <td class="num">{pct(m.score.mean)}</td>
                <td class="num">{ci(m.score.ci95)}</td>
                <td class="num">{m.vsBaseline ? pct(m.vsBaseline.qualityRatio) : "–"}</td>
                <td class="num">{m.vsBaseline ? m.vsBaseline.pValue.toFixed(3) : "–"}</td>
                <td class="num">{m.errors}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </Card>
  );
}

/** Tool-call fidelity of the suites that offer tools; nothing when none does. */
function ToolCallsTable({ suites }: { suites: { name: string; models: SuiteModel[] }[] }) {
  const rows = suites.flatMap((s) => s.models.flatMap((m) => (m.toolCalls ? [{ suite: s.name, id: m.id, t: m.toolCalls }] : [])));
  if (rows.length === 0) return null;
  const hints = rows.flatMap((r) => (r.t.hint ? [`${r.id}: ${r.t.hint}`] : []));
  return (
    <Card title="Tool calls">
      <table class="grid">
        <thead>
          <tr>
            <th>suite</th>
            <th>model</th>
            <th class="num">answers</th>
            <th class="num">with a call</th>
            <th class="num">well-formed</th>
            <th class="num">args JSON</th>
            <th class="num">args valid</th>
            <th class="num">calls as text</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ suite, id, t }) => (
            <tr key={`${suite}/${id}`}>
              <td>
                <Text value={suite} />
              </td>
              <td>
                <Text value={id} />
              </td>
              <td class="num">{t.answers}</td>
              <td class="num">{t.withCall === null ? "–" : pct(t.withCall)}</td>
              <td class="num">{t.wellFormed === null ? "–" : pct(t.wellFormed)}</td>
              <td class="num">{t.argumentsJson === null ? "–" : pct(t.argumentsJson)}</td>
              <td class="num">{t.argumentsValid === null ? "–" : pct(t.argumentsValid)}</td>
              <td class="num">
                {t.asText === null ? "–" : pct(t.asText)}
                {Object.keys(t.asTextFormats).length
                  ? ` (${Object.entries(t.asTextFormats)
                      .map(([f, n]) => `${f} ${n}`)
                      .join(", ")})`
                  : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {hints.map((h) => (
        <p class="meta" key={h}>
          <Text value={h} />
        </p>
      ))}
    </Card>
  );
}

export function RunPage({ id }: { id: string }) {
  const [live, setLive] = useState(false);
  // A run in flight: its numbers are re-read every 5 s until it finishes.
  const res = useApi<RunAnswer>(`/runs/${enc(id)}`, {}, live ? 5000 : 0);
  useLocation();
  const run = res.data?.run;
  if ((run?.status === "running") !== live) setLive(run?.status === "running");
  return (
    <div>
      <h1>
        Run <Text value={id} />
      </h1>
      <Failure error={res.error} />
      <Loading on={res.loading && !res.data} />
      {run && (
        <p class="meta">
          {run.kind} · <span class={`status ${run.status}`}>{run.status}</span> · created {when(run.createdAt)} · {run.results} results · {run.errors} errors ·{" "}
          {usd(run.costUsd)} · <a href={`/runs/${enc(id)}/cases`}>cases</a>
          {run.kind === "redteam" ? (
            <>
              {" "}
              · <a href={`/runs/${enc(id)}/redteam`}>red-team view</a>
            </>
          ) : null}{" "}
          · <a href={href("/compare", { a: id })}>compare with another run</a> · shareable report: <code>weightbridge report {id}</code>
        </p>
      )}
      {run && res.data?.report && <Adoption run={run} report={res.data.report} />}
      {run && res.data?.summary && <SuitesTable runId={run.id} suites={res.data.summary.suites} />}
      <ToolCallsTable suites={res.data?.report?.suites ?? res.data?.summary?.suites ?? []} />
      {res.data?.benchLevels && (
        <Card title="Bench levels">
          <Pre json={res.data.benchLevels} />
        </Card>
      )}
    </div>
  );
}

function Pre({ json }: { json: unknown }) {
  return <pre class="out">{JSON.stringify(json, null, 2)}</pre>;
}
