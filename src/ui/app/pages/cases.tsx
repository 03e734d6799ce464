/**
 * The cases table of a run: cases x models with filters, search and sort in the URL; rows come from
 * the server a page at a time and only the visible rows are in the DOM (@tanstack/virtual-core), so
 * a run of 1,000,000 results scrolls like one of 100.
 */
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from "@tanstack/virtual-core";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { enc, href, navigate, useLocation } from "../router.js";
import { msf, usd } from "../text.js";
import { Exports, Failure, Text } from "../ui.js";

interface CaseRow {
  suite: string;
  caseIndex: number;
  caseId: string;
  model: string;
  repeat: number;
  input: string;
  output: string | null;
  score: number;
  passed: boolean;
  changed: string | null;
  error: string | null;
  latencyMs: number | null;
  costUsd: number | null;
}
interface Page {
  rows: CaseRow[];
  total: number | null;
  hasMore: boolean;
  /** With q: whether the full-text index answered, or how far its first build has got. */
  search?: { index: "ready" } | { index: "building"; done: number; total: number } | { index: "none"; reason: string };
}

function searchNote(s: Page["search"]): string {
  if (!s || s.index === "ready") return "";
  if (s.index === "building") return `building the search index: ${Math.floor((100 * s.done) / Math.max(1, s.total))}% (searching by scan meanwhile)`;
  return s.reason;
}

const PAGE = 100;
const ROW = 34;
const KEYS = ["suite", "model", "grader", "filter", "q", "sort", "order"] as const;

function useVirtual(count: number, el: HTMLDivElement | null) {
  const [, tick] = useState(0);
  const v = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count,
        getScrollElement: () => el,
        estimateSize: () => ROW,
        overscan: 10,
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        onChange: () => tick((n) => n + 1),
      }),
    [count, el],
  );
  useEffect(() => {
    if (!el) return;
    const unmount = v._didMount();
    v._willUpdate();
    return unmount;
  }, [v, el]);
  return v;
}

/**
 * The rows of one filtered view, a page at a time: `load(p)` asks for page p once; a change of
 * filters (`key`) forgets what was loaded. `total` is the server's count, or a lower bound while it pages.
 */
function useCasePages(runId: string, params: Record<string, string | undefined>, key: string) {
  const [total, setTotal] = useState<number | null>(null);
  const [pages, setPages] = useState<Map<number, CaseRow[]>>(new Map());
  const [error, setError] = useState<string>();
  const [note, setNote] = useState("");
  const asked = useRef(new Set<number>());
  const load = (p: number) => {
    if (asked.current.has(p)) return;
    asked.current.add(p);
    api<Page>(`/runs/${enc(runId)}/cases`, { ...params, limit: PAGE, offset: p * PAGE }).then(
      (page) => {
        setError(undefined);
        if (p === 0) setNote(searchNote(page.search));
        setTotal((t) => page.total ?? Math.max(t ?? 0, p * PAGE + page.rows.length + (page.hasMore ? PAGE : 0)));
        setPages((m) => new Map(m).set(p, page.rows));
      },
      (e: Error) => setError(e.message),
    );
  };
  useEffect(() => {
    asked.current = new Set();
    setPages(new Map());
    setTotal(null);
    load(0);
  }, [key, runId]);
  return { total, pages, error, note, load };
}

/** The page: filters in the URL, the rows of the visible window loaded as they scroll into view. */
export function CasesPage({ runId }: { runId: string }) {
  const { query } = useLocation();
  const params: Record<string, string | undefined> = {};
  for (const k of KEYS) params[k] = query.get(k) ?? undefined;
  const { total, pages, error, note, load } = useCasePages(runId, params, JSON.stringify(params));
  const [el, setEl] = useState<HTMLDivElement | null>(null);
  const v = useVirtual(total ?? 0, el);
  const items = v.getVirtualItems();
  for (const it of items) load(Math.floor(it.index / PAGE));
  return (
    <div>
      <h1>
        Cases of <a href={`/runs/${enc(runId)}`}>{runId}</a>
      </h1>
      <CaseFilters runId={runId} params={params} total={total} note={note} />
      <Failure error={error} />
      <div class="vhead">
        <span>case</span>
        <span>model</span>
        <span>input</span>
        <span>output</span>
        <span class="num">score</span>
        <span class="num">latency</span>
        <span class="num">cost</span>
      </div>
      <div class="vscroll" ref={setEl}>
        <div style={{ height: `${v.getTotalSize()}px`, position: "relative" }}>
          {items.map((it) => {
            const r = pages.get(Math.floor(it.index / PAGE))?.[it.index % PAGE];
            return (
              <div
                class={`vrow ${r ? (r.error ? "err" : r.passed ? "pass" : "fail") : ""}`}
                key={it.key}
                style={{ transform: `translateY(${it.start}px)`, height: `${ROW}px` }}
              >
                {r ? <Row runId={runId} r={r} /> : <span class="muted">…</span>}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function CaseFilters(p: { runId: string; params: Record<string, string | undefined>; total: number | null; note: string }) {
  const { runId, params, total, note } = p;
  const set = (k: string, val: string) => navigate(href(`/runs/${enc(runId)}/cases`, { ...params, [k]: val }), true);
  const sel = (k: string, opts: string[], label: string) => (
    <select aria-label={label} value={params[k] ?? opts[0]} onChange={(e) => set(k, (e.target as HTMLSelectElement).value)}>
      {opts.map((o) => (
        <option value={o}>{k === "sort" ? `sort by ${o}` : o}</option>
      ))}
    </select>
  );
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      {sel("filter", ["all", "failed", "passed", "errors", "changed", "regressions", "improvements"], "filter")}
      <input placeholder="model" value={params.model ?? ""} onChange={(e) => set("model", (e.target as HTMLInputElement).value)} />
      <input placeholder="suite" value={params.suite ?? ""} onChange={(e) => set("suite", (e.target as HTMLInputElement).value)} />
      <input placeholder="grader" value={params.grader ?? ""} onChange={(e) => set("grader", (e.target as HTMLInputElement).value)} />
      <input type="search" placeholder="search inputs and outputs" value={params.q ?? ""} onChange={(e) => set("q", (e.target as HTMLInputElement).value)} />
      {sel("sort", ["case", "score", "latency", "cost"], "sort")}
      {sel("order", ["asc", "desc"], "order")}
      <span class="muted">{total === null ? "…" : `${total.toLocaleString("en")} rows`}</span>
      {note && <span class="muted search-note">{note}</span>}
      <Exports path={`/runs/${enc(runId)}/cases`} params={params} />
    </form>
  );
}

function Row({ runId, r }: { runId: string; r: CaseRow }) {
  return (
    <>
      <a href={`/runs/${enc(runId)}/cases/${enc(r.suite)}/${r.caseIndex}`}>
        <Text value={r.caseId} clip={40} />
      </a>
      <span>
        <Text value={r.model} clip={30} />
        {r.changed ? <span class={`tag ${r.changed}`}>{r.changed}</span> : null}
      </span>
      <Text value={r.input} clip={120} />
      <Text value={r.error ? `[error] ${r.error}` : r.output} clip={160} />
      <span class="num">{r.score.toFixed(2)}</span>
      <span class="num">{msf(r.latencyMs)}</span>
      <span class="num">{usd(r.costUsd)}</span>
    </>
  );
}
