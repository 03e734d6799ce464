/** Red-team: attack success rates per pack and model with CIs and the paired difference from the baseline; successful attacks' transcripts. */
import { enc, href, useLocation } from "../router.js";
import { pct } from "../text.js";
import { Card, Exports, Failure, Loading, Pre, Text } from "../ui.js";
import { useApi } from "../use-api.js";

interface RedteamAnswer {
  baseline: string | null;
  packs: {
    pack: string;
    models: {
      id: string;
      attacks: number;
      successes: number;
      rate: number;
      ci95: [number, number];
      errors: number;
      vsBaseline: { diff: number; ci95: [number, number]; pValue: number } | null;
    }[];
  }[];
}
interface Transcripts {
  transcripts: { pack: string; caseId: string; model: string; messages: { role: string; content: unknown }[]; output: string | null }[];
}

/** The page: the rates table; with ?pack= (and ?model=), that pack's successful attacks. */
export function RedteamPage({ runId }: { runId: string }) {
  const { query } = useLocation();
  const pack = query.get("pack") ?? undefined;
  const model = query.get("model") ?? undefined;
  const res = useApi<RedteamAnswer>(`/runs/${enc(runId)}/redteam`);
  return (
    <div>
      <h1>
        Red-team run <a href={`/runs/${enc(runId)}`}>{runId}</a>
      </h1>
      <Failure error={res.error} />
      <Loading on={res.loading && !res.data} />
      {res.data && <RatesTable runId={runId} answer={res.data} />}
      {pack && <SuccessfulAttacks runId={runId} pack={pack} model={model} />}
    </div>
  );
}

function RatesTable({ runId, answer }: { runId: string; answer: RedteamAnswer }) {
  return (
    <Card title={`Attack success rate per pack (baseline ${answer.baseline ?? "none"})`}>
      <table class="grid">
        <thead>
          <tr>
            <th>pack</th>
            <th>model</th>
            <th class="num">attacks</th>
            <th class="num">successes</th>
            <th class="num">rate</th>
            <th class="num">95% CI</th>
            <th class="num">vs baseline</th>
            <th class="num">p</th>
            <th>transcripts</th>
          </tr>
        </thead>
        <tbody>
          {answer.packs.flatMap((p) =>
            p.models.map((m) => (
              <tr key={`${p.pack}/${m.id}`}>
                <td>
                  <a href={href(`/runs/${enc(runId)}/cases`, { suite: p.pack })} title="every model's answers, side by side per case">
                    <Text value={p.pack} />
                  </a>
                </td>
                <td>
                  <Text value={m.id} />
                </td>
                <td class="num">{m.attacks}</td>
                <td class="num">{m.successes}</td>
                <td class="num">{pct(m.rate)}</td>
                <td class="num">
                  {pct(m.ci95[0])} – {pct(m.ci95[1])}
                </td>
                <td class="num">{m.vsBaseline ? pct(m.vsBaseline.diff) : "–"}</td>
                <td class="num">{m.vsBaseline ? m.vsBaseline.pValue.toFixed(3) : "–"}</td>
                <td>{m.successes > 0 ? <a href={href(`/runs/${enc(runId)}/redteam`, { pack: p.pack, model: m.id })}>show</a> : null}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </Card>
  );
}

/** A pack's successful attacks (on one model with ?model=): each conversation and the answer. */
function SuccessfulAttacks({ runId, pack, model }: { runId: string; pack: string; model: string | undefined }) {
  const tr = useApi<Transcripts>(`/runs/${enc(runId)}/redteam/transcripts`, { pack, model, limit: 20 });
  return (
    <Card title={`Successful attacks: ${pack}${model ? ` on ${model}` : ""}`}>
      <Exports path={`/runs/${enc(runId)}/redteam/transcripts`} params={{ pack, model }} />
      <Failure error={tr.error} />
      {tr.data?.transcripts.map((t) => (
        <div class="transcript">
          <h3>
            <Text value={`${t.caseId} · ${t.model}`} />
          </h3>
          {t.messages.map((m) => (
            <div class="msg">
              <b>{m.role}</b>
              <Pre value={typeof m.content === "string" ? m.content : JSON.stringify(m.content)} />
            </div>
          ))}
          <div class="msg answer">
            <b>answer</b>
            <Pre value={t.output} />
          </div>
        </div>
      ))}
    </Card>
  );
}
