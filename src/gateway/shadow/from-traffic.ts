/**
 * `weightbridge suite from-traffic`: a suite built from a route's captured requests (capture:), each
 * case a request whose expectation is agreement with the answer the primary gave (or an llm-judge
 * rubric with that answer as the reference), deduplicated and sampled — optionally stratified by the
 * data classes the requests held, so rare classes are not lost in a small sample. Captures hold
 * placeholders, never values, and so does the suite. Pure apart from the rows it is given.
 */
import { stringify } from "yaml";
import { seededRng } from "../../stats/index.js";
import type { GatewayCapturesTable } from "../../store/index.js";

export interface FromTrafficOptions {
  route: string;
  limit: number;
  stratifyBy?: "classes";
  /** A rubric: cases are graded by llm-judge with the recorded answer as the reference, instead of equals. */
  judge?: string;
  seed?: number;
}

export interface TrafficSuite {
  suite: Record<string, unknown>;
  /** What was left out and why (duplicates, conversations of more than one user turn, non-text content). */
  stats: { captured: number; duplicates: number; unsupported: number; cases: number };
}

type Turn = { system: string | undefined; input: string };

/** A captured request as one case: an optional system message and one user message of text. */
function turnOf(requestJson: string): Turn | undefined {
  let msgs: unknown;
  try {
    msgs = JSON.parse(requestJson);
  } catch {
    return undefined;
  }
  if (!Array.isArray(msgs)) return undefined;
  const system = msgs.filter((m) => (m as { role?: unknown })?.role === "system");
  const rest = msgs.filter((m) => (m as { role?: unknown })?.role !== "system");
  const user = rest[0] as { role?: unknown; content?: unknown } | undefined;
  if (system.length > 1 || rest.length !== 1 || user?.role !== "user" || typeof user.content !== "string") return undefined;
  const s = (system[0] as { content?: unknown } | undefined)?.content;
  if (s !== undefined && typeof s !== "string") return undefined;
  return { system: s as string | undefined, input: user.content };
}

/** Seeded sample of `n` from `xs` (order kept). */
function sample<T>(xs: readonly T[], n: number, rnd: () => number): T[] {
  if (xs.length <= n) return [...xs];
  const idx = xs.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => xs[i] as T);
}

/** Proportional allocation of `limit` over strata (at least one each while the limit allows), then a seeded sample within each. */
function stratified<T>(groups: Map<string, T[]>, limit: number, rnd: () => number): T[] {
  const total = [...groups.values()].reduce((a, g) => a + g.length, 0);
  const keys = [...groups.keys()].sort();
  const quota = new Map(keys.map((k) => [k, Math.min(groups.get(k)?.length ?? 0, Math.max(1, Math.floor(((groups.get(k)?.length ?? 0) * limit) / total)))]));
  let left = limit - [...quota.values()].reduce((a, b) => a + b, 0);
  for (const k of keys) {
    const room = (groups.get(k)?.length ?? 0) - (quota.get(k) ?? 0);
    const add = Math.max(0, Math.min(room, left));
    quota.set(k, (quota.get(k) ?? 0) + add);
    left -= add;
  }
  return keys.flatMap((k) => sample(groups.get(k) ?? [], quota.get(k) ?? 0, rnd));
}

export function suiteFromTraffic(rows: readonly GatewayCapturesTable[], o: FromTrafficOptions): TrafficSuite {
  const seen = new Set<string>();
  let duplicates = 0;
  let unsupported = 0;
  const usable: { row: GatewayCapturesTable; turn: Turn }[] = [];
  for (const row of rows) {
    if (seen.has(row.request_sha256)) {
      duplicates++;
      continue;
    }
    seen.add(row.request_sha256);
    const turn = turnOf(row.request_json);
    if (turn) usable.push({ row, turn });
    else unsupported++;
  }
  const rnd = seededRng(o.seed ?? 1);
  const chosen =
    o.stratifyBy === "classes"
      ? stratified(
          groupBy(
            usable,
            (u) =>
              Object.keys(JSON.parse(u.row.classes_json) as object)
                .sort()
                .join("+") || "none",
          ),
          o.limit,
          rnd,
        )
      : sample(usable, o.limit, rnd);
  const systems = new Set(chosen.map((c) => c.turn.system));
  const oneSystem = systems.size === 1 ? [...systems][0] : undefined;
  const literalSystem = oneSystem !== undefined && !oneSystem.includes("{{");
  const perCaseSystem = !literalSystem && chosen.some((c) => c.turn.system !== undefined);
  const cases = chosen.map((c, i) => ({
    id: `${o.route}-${String(i + 1).padStart(4, "0")}`,
    vars: { input: c.turn.input, ...(perCaseSystem ? { system: c.turn.system ?? "" } : {}) },
    ideal: c.row.answer,
    expect: o.judge ? { type: "llm-judge", rubric: o.judge } : { type: "equals", value: c.row.answer },
    ...(o.stratifyBy === "classes"
      ? {
          tags: [
            Object.keys(JSON.parse(c.row.classes_json) as object)
              .sort()
              .join("+") || "none",
          ],
        }
      : {}),
  }));
  const suite = {
    name: `${o.route.replace(/[^\p{L}\p{M}\p{N}._-]/gu, "_").replace(/^[^\p{L}\p{N}]+/u, "")}-traffic`,
    description: `${cases.length} requests captured on gateway route ${o.route}, expected to agree with the answer its primary gave`,
    ...(literalSystem ? { system: oneSystem } : perCaseSystem ? { system: "{{system}}" } : {}),
    prompt: "{{input}}",
    cases,
  };
  return { suite, stats: { captured: rows.length, duplicates, unsupported, cases: cases.length } };
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/** The suite as YAML (long texts kept on one line each). */
export const suiteYaml = (suite: Record<string, unknown>): string => stringify(suite, { lineWidth: 0 });
