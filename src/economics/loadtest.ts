/**
 * Endpoint load test, in the manner of vLLM's benchmark_serving and LLMPerf: for each concurrency
 * level, keep that many streaming requests in flight for a request count or a duration, and
 * measure TTFT, inter-token latency, per-request and aggregate output tokens/s, requests/s and
 * errors. Owns time and concurrency; the statistics are pure helpers below.
 */
import type { Provider } from "../providers/index.js";
import { ProviderError } from "../providers/index.js";
import { mean, quantileSorted, type Rng, seededRng } from "../stats/index.js";

export interface LoadTestOptions {
  provider: Provider;
  levels: number[];
  /** Requests per level (default 100 when no duration is given). */
  requests?: number;
  /** Run each level for this long instead of a request count. */
  durationMs?: number;
  /** [min, max] prompt length in (approximate) tokens; equal bounds = fixed. */
  inputTokens: [number, number];
  /** [min, max] output length in tokens (max_tokens). */
  outputTokens: [number, number];
  /** Ask the server to generate exactly max_tokens (vLLM's ignore_eos). */
  ignoreEos?: boolean;
  timeoutMs?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (level: number, done: number, total: number | undefined) => void;
}

export interface Dist {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
}

export interface LevelResult {
  concurrency: number;
  requests: number;
  errors: number;
  errorRate: number;
  durationS: number;
  requestsPerS: number;
  ttftMs: Dist;
  itlMs: Dist;
  latencyMs: Dist;
  /** Output tokens per second seen by one request (after its first token). */
  outputTokensPerSPerRequest: Dist;
  /** All output tokens of the level divided by its wall time. */
  outputTokensPerS: number;
  inputTokensPerS: number;
  meanInputTokens: number;
  meanOutputTokens: number;
  firstError?: string;
}

const WORDS = "the a model cost latency token answer customer order parcel refund price open weight server request queue batch".split(" ");

/** A synthetic prompt of about `tokens` tokens (≈ 4 characters each), unique per request. */
export function syntheticPrompt(rng: Rng, tokens: number, id: number): string {
  const parts = [`Request ${id}: write a long, detailed story.`];
  let chars = parts[0]?.length ?? 0;
  while (chars < tokens * 4) {
    const w = WORDS[Math.floor(rng() * WORDS.length)] ?? "the";
    parts.push(w);
    chars += w.length + 1;
  }
  return parts.join(" ");
}

export function distribution(values: number[]): Dist {
  if (values.length === 0) return { p50: null, p95: null, p99: null, mean: null };
  const s = Float64Array.from(values).sort();
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(quantileSorted(s, 0.5)), p95: r(quantileSorted(s, 0.95)), p99: r(quantileSorted(s, 0.99)), mean: r(mean(s)) };
}

function between(rng: Rng, [lo, hi]: [number, number]): number {
  return lo === hi ? lo : lo + Math.floor(rng() * (hi - lo + 1));
}

interface Sample {
  ok: boolean;
  ttft?: number;
  latency?: number;
  gaps: number[];
  inputTokens: number;
  outputTokens: number;
  error?: string;
}

export async function runLevel(o: LoadTestOptions, concurrency: number, rng: Rng): Promise<LevelResult> {
  const target = o.durationMs === undefined ? (o.requests ?? 100) : undefined;
  const deadline = o.durationMs !== undefined ? performance.now() + o.durationMs : Number.POSITIVE_INFINITY;
  const samples: Sample[] = [];
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    while (!o.signal?.aborted && performance.now() < deadline && (target === undefined || issued < target)) {
      const id = issued++;
      const prompt = syntheticPrompt(rng, between(rng, o.inputTokens), id);
      const maxTokens = between(rng, o.outputTokens);
      const gaps: number[] = [];
      let last: number | undefined;
      try {
        const r = await o.provider.chat({
          messages: [{ role: "user", content: prompt }],
          params: { maxTokens, temperature: 0 },
          ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
          ...(o.ignoreEos ? { extraBody: { ignore_eos: true } } : {}),
          onChunk: () => {
            const now = performance.now();
            if (last !== undefined) gaps.push(now - last);
            last = now;
          },
        });
        samples.push({
          ok: true,
          ...(r.ttftMs !== undefined ? { ttft: r.ttftMs } : {}),
          latency: r.latencyMs,
          gaps,
          inputTokens: r.usage.inputTokens,
          outputTokens: r.usage.outputTokens,
        });
      } catch (e) {
        if (o.signal?.aborted) return;
        if (!(e instanceof ProviderError)) throw e;
        samples.push({ ok: false, gaps: [], inputTokens: 0, outputTokens: 0, error: e.message });
      }
      o.onProgress?.(concurrency, samples.length, target);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const durationS = (performance.now() - started) / 1000;
  const ok = samples.filter((s) => s.ok);
  const outTok = ok.reduce((a, s) => a + s.outputTokens, 0);
  const inTok = ok.reduce((a, s) => a + s.inputTokens, 0);
  const perRequestTps = ok.flatMap((s) =>
    s.latency !== undefined && s.ttft !== undefined && s.latency > s.ttft && s.outputTokens > 1 ? [((s.outputTokens - 1) * 1000) / (s.latency - s.ttft)] : [],
  );
  const firstError = samples.find((s) => !s.ok)?.error;
  return {
    concurrency,
    requests: samples.length,
    errors: samples.length - ok.length,
    errorRate: samples.length ? (samples.length - ok.length) / samples.length : 0,
    durationS: Math.round(durationS * 1000) / 1000,
    requestsPerS: Math.round((ok.length / durationS) * 100) / 100,
    ttftMs: distribution(ok.flatMap((s) => (s.ttft === undefined ? [] : [s.ttft]))),
    itlMs: distribution(ok.flatMap((s) => s.gaps)),
    latencyMs: distribution(ok.flatMap((s) => (s.latency === undefined ? [] : [s.latency]))),
    outputTokensPerSPerRequest: distribution(perRequestTps),
    outputTokensPerS: Math.round((outTok / durationS) * 10) / 10,
    inputTokensPerS: Math.round((inTok / durationS) * 10) / 10,
    meanInputTokens: ok.length ? Math.round(inTok / ok.length) : 0,
    meanOutputTokens: ok.length ? Math.round(outTok / ok.length) : 0,
    ...(firstError ? { firstError } : {}),
  };
}

export async function runLoadTest(o: LoadTestOptions, onLevel?: (r: LevelResult) => Promise<void> | void): Promise<LevelResult[]> {
  const rng = seededRng(o.seed ?? 7);
  const out: LevelResult[] = [];
  for (const c of o.levels) {
    if (o.signal?.aborted) break;
    const r = await runLevel(o, c, rng);
    out.push(r);
    await onLevel?.(r);
  }
  return out;
}
