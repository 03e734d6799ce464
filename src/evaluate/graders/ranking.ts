/** Recommendations: the model returns ranked ids; nDCG@k (the score), recall@k and MRR. */
import { extractJson } from "./json.js";
import type { Grader } from "./types.js";

/** Ids from a JSON array, or from lines / commas, with list numbering and bullets removed. */
export function parseRankedIds(output: string): string[] {
  const j = extractJson(output);
  if (j.ok && Array.isArray(j.value))
    return j.value.map((v) => String(typeof v === "object" && v !== null && "id" in v ? (v as { id: unknown }).id : v).trim()).filter(Boolean);
  return output
    .split(/[\n,;]+/)
    .map((s) =>
      s
        .replace(/^\s*(?:\d+[.)]|[-*•])\s*/, "")
        .replace(/^["'`]+|["'`.]+$/g, "")
        .trim(),
    )
    .filter((s) => s.length > 0);
}

export interface RankingMetrics {
  ndcg: number;
  recall: number;
  mrr: number;
}

export function rankingMetrics(ranked: readonly string[], relevant: readonly string[], k: number, gains?: Record<string, number>): RankingMetrics {
  const gainOf = (id: string) => gains?.[id] ?? (relevant.includes(id) ? 1 : 0);
  const seen = new Set<string>();
  const top: string[] = [];
  for (const id of ranked) {
    if (seen.has(id)) continue; // a repeated id earns nothing twice
    seen.add(id);
    top.push(id);
    if (top.length === k) break;
  }
  let dcg = 0;
  top.forEach((id, i) => {
    dcg += (2 ** gainOf(id) - 1) / Math.log2(i + 2);
  });
  const idealGains = (gains ? Object.values(gains) : relevant.map(() => 1)).sort((a, b) => b - a).slice(0, k);
  let idcg = 0;
  idealGains.forEach((g, i) => {
    idcg += (2 ** g - 1) / Math.log2(i + 2);
  });
  const hits = top.filter((id) => relevant.includes(id)).length;
  const firstRel = ranked.findIndex((id) => relevant.includes(id));
  return { ndcg: idcg > 0 ? dcg / idcg : 0, recall: relevant.length ? hits / relevant.length : 0, mrr: firstRel >= 0 ? 1 / (firstRel + 1) : 0 };
}

export const ranking: Grader<"ranking"> = (e, { output }) => {
  const k = e.k ?? 10;
  const ranked = parseRankedIds(output);
  const m = rankingMetrics(ranked, e.relevant, k, e.gains);
  return { type: "ranking", score: m.ndcg, pass: m.ndcg >= 0.5, detail: { k, ndcg: m.ndcg, recall: m.recall, mrr: m.mrr, ranked: ranked.slice(0, k) } };
};
