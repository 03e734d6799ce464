/** A case: the exact messages sent, each model's output side by side with a word diff against the baseline, grades and timings. */
import { wordDiff } from "../diff.js";
import { enc } from "../router.js";
import { msf, usd, visible } from "../text.js";
import { Card, Failure, Loading, Pre, Text } from "../ui.js";
import { useApi } from "../use-api.js";

interface Result {
  model: string;
  repeat: number;
  output: string | null;
  grades: { type: string; score: number; pass: boolean; detail?: unknown }[];
  score: number;
  passed: boolean;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  latencyMs: number | null;
  ttftMs: number | null;
  attempts: number;
  cached: boolean;
  error: string | null;
  /** A conversation's answers in order (tool and multi-turn cases); empty for a plain case. */
  turns?: { text: string; toolCalls: { name: string; arguments: string }[] }[];
}
interface CaseAnswer {
  suite: string;
  caseIndex: number;
  caseId: string;
  baseline: string | null;
  messages: { role: string; content: unknown; toolCalls?: unknown[]; toolCallId?: string }[];
  results: Result[];
}

function Diff({ base, text }: { base: string; text: string }) {
  return (
    <pre class="out diff">
      {wordDiff(visible(base), visible(text)).map((p) => (p.kind === "same" ? p.text : p.kind === "add" ? <ins>{p.text}</ins> : <del>{p.text}</del>))}
    </pre>
  );
}

function Output({ r, base }: { r: Result; base: Result | undefined }) {
  const text = r.error ? `[error] ${r.error}` : (r.output ?? "");
  const baseText = base ? (base.error ? `[error] ${base.error}` : (base.output ?? "")) : null;
  return (
    <div class={`output ${r.passed ? "pass" : "fail"}`}>
      <h3>
        <Text value={r.model} />
        {r.repeat > 0 ? ` (repeat ${r.repeat})` : ""} <span class={r.passed ? "ok" : "bad"}>{r.passed ? "pass" : "fail"}</span>
      </h3>
      {baseText !== null && base !== r ? <Diff base={baseText} text={text} /> : <Pre value={text} />}
      <p class="meta">
        score {r.score.toFixed(3)} · {r.inputTokens}+{r.outputTokens} tokens · {usd(r.costUsd)} · {msf(r.latencyMs)} (TTFT {msf(r.ttftMs)}) · {r.attempts}{" "}
        attempt
        {r.attempts === 1 ? "" : "s"}
        {r.cached ? " · cached" : ""}
      </p>
      {r.turns && r.turns.length > 0 ? (
        <details>
          <summary>conversation: {r.turns.length} answers</summary>
          {r.turns.map((t, i) => (
            <div class="msg">
              <b>answer {i + 1}</b>
              {t.text ? <Pre value={t.text} /> : null}
              {t.toolCalls.map((c) => (
                <Pre value={`→ ${c.name}(${c.arguments})`} />
              ))}
            </div>
          ))}
        </details>
      ) : null}
      {r.grades.map((g) => (
        <details>
          <summary>
            {g.type}: {g.pass ? "pass" : "fail"} ({g.score.toFixed(3)})
          </summary>
          <pre class="out">{visible(JSON.stringify(g.detail ?? {}, null, 2))}</pre>
        </details>
      ))}
    </div>
  );
}

export function CasePage({ runId, suite, index }: { runId: string; suite: string; index: string }) {
  const res = useApi<CaseAnswer>(`/runs/${enc(runId)}/cases/${enc(suite)}/${enc(index)}`);
  const c = res.data;
  const base = c?.results.find((r) => r.model === c.baseline && r.repeat === 0);
  return (
    <div>
      <h1>
        Case <Text value={c ? c.caseId : `${suite} #${index}`} />
      </h1>
      <p class="meta">
        run <a href={`/runs/${enc(runId)}`}>{runId}</a> · <a href={`/runs/${enc(runId)}/cases`}>all cases</a>
        {base ? (
          <>
            {" "}
            · diff against <Text value={c?.baseline} /> (<ins>added</ins> <del>removed</del>)
          </>
        ) : null}
      </p>
      <Failure error={res.error} />
      <Loading on={res.loading && !c} />
      {c && (
        <>
          <Card title="Messages sent">
            {c.messages.map((m) => (
              <div class="msg">
                <b>{m.role}</b>
                {m.toolCallId ? ` (answers ${m.toolCallId})` : ""}
                <Pre value={typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2)} />
                {m.toolCalls?.length ? <Pre value={JSON.stringify(m.toolCalls, null, 2)} /> : null}
              </div>
            ))}
          </Card>
          <div class="side">
            {c.results.map((r) => (
              <Output r={r} base={base} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}
