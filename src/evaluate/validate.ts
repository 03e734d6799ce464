/**
 * `validate`: what a run would do, before it spends money. The config, suites and graders load
 * (errors are the loaders' file:line UserErrors), every endpoint answers one one-token request, and
 * the run's cost is estimated from the prompts' length and the output-token cap (a conversation as
 * every answer it may take, each as long as the cap).
 */
import { loadProjectAsync } from "../config/index.js";
import { closeAgents, createProvider } from "../providers/index.js";
import { loadPrices, openStore } from "../store/index.js";
import { errorMessage } from "../util/errors.js";
import { isConversation, maxAnswers } from "./attempt.js";
import { buildPlan, type Plan, type PlannedCase } from "./plan.js";

export interface EndpointCheck {
  id: string;
  ok: boolean | null;
  latencyMs: number | null;
  error: string | null;
}

export interface CostEstimate {
  id: string;
  requests: number;
  inputTokens: number;
  /** Upper bound: every answer as long as maxTokens allows (256 where unset). */
  maxOutputTokens: number;
  /** USD, upper bound; null when the model has no price. */
  maxUsd: number | null;
  priceSource: string | null;
}

export interface Validation {
  configPath: string;
  suites: { name: string; cases: number }[];
  endpoints: EndpointCheck[];
  cost: CostEstimate[];
  totalMaxUsd: number | null;
}

const DEFAULT_MAX_TOKENS = 256;
const tokensOf = (s: string) => Math.ceil(s.length / 4);

/** The longest message a conversation may add after an answer: a mocked result or a scripted user turn. */
function longestStep(c: PlannedCase): number {
  const mocks = Object.values(c.agent?.mocks ?? {}).flatMap((m) => (Array.isArray(m) ? m : [m]));
  const texts = [...mocks.map((m) => (typeof m.result === "string" ? m.result : JSON.stringify(m.result))), ...(c.turns ?? []), '{"error":""}'];
  return Math.max(...texts.map((t) => tokensOf(t) + 4));
}

/**
 * Requests and input tokens of one case, upper bound: a conversation asks up to maxAnswers times,
 * each request carrying the tools, the case's messages and every earlier answer (at the cap) and step.
 */
function caseLoad(c: PlannedCase, cap: number, toolTokens: number, conversation: boolean): { requests: number; input: number } {
  const first = c.messages.reduce((a, x) => a + tokensOf(x.content) + 4, 0) + toolTokens;
  if (!conversation) return { requests: 1, input: first };
  const n = maxAnswers(c);
  const step = cap + longestStep(c);
  return { requests: n, input: n * first + step * ((n * (n - 1)) / 2) };
}

export function estimateCost(plan: Plan): CostEstimate[] {
  return plan.models.map((m) => {
    let requests = 0;
    let input = 0;
    let output = 0;
    for (const s of plan.suites) {
      const cap = m.config.params?.maxTokens ?? s.params.maxTokens ?? plan.defaults.params.maxTokens ?? DEFAULT_MAX_TOKENS;
      const toolTokens = s.tools?.length ? tokensOf(JSON.stringify(s.tools)) : 0;
      for (const c of s.cases) {
        const load = caseLoad(c, cap, toolTokens, isConversation(s, c));
        requests += plan.repeat * load.requests;
        input += plan.repeat * load.input;
        output += plan.repeat * load.requests * cap;
      }
    }
    const usd = m.price ? Number(((input * m.price.input + output * m.price.output) / 1e6).toFixed(6)) : null;
    return { id: m.config.id, requests, inputTokens: input, maxOutputTokens: output, maxUsd: usd, priceSource: m.price?.source ?? null };
  });
}

async function ping(plan: Plan, timeoutMs: number): Promise<EndpointCheck[]> {
  const models = [...plan.models, ...plan.helpers.filter((h) => !plan.models.some((m) => m.config.id === h.config.id))];
  // Unset API keys and missing GGUF files are UserErrors here, before any request.
  const providers = models.map((m) => ({ id: m.config.id, p: createProvider(m.config, 1) }));
  try {
    return await Promise.all(
      providers.map(async ({ id, p }) => {
        const t = performance.now();
        try {
          await p.chat({ messages: [{ role: "user", content: "Reply with OK." }], params: { maxTokens: 1, temperature: 0 }, timeoutMs });
          return { id, ok: true, latencyMs: Math.round(performance.now() - t), error: null };
        } catch (e) {
          return { id, ok: false, latencyMs: null, error: errorMessage(e).replace(/\s+/g, " ").slice(0, 200) };
        }
      }),
    );
  } finally {
    await Promise.all(providers.map(({ p }) => p.close().catch(() => undefined)));
    await closeAgents();
  }
}

export async function validateProject(config: string | undefined, o: { offline?: boolean; timeoutMs?: number } = {}): Promise<Validation> {
  const project = await loadProjectAsync(config);
  const store = await openStore(project.storeUrl);
  let plan: Plan;
  try {
    plan = buildPlan(project, { prices: await loadPrices(store.db) });
  } finally {
    await store.close();
  }
  const endpoints = o.offline ? plan.models.map((m) => ({ id: m.config.id, ok: null, latencyMs: null, error: null })) : await ping(plan, o.timeoutMs ?? 15_000);
  const cost = estimateCost(plan);
  const priced = cost.filter((c) => c.maxUsd !== null);
  return {
    configPath: project.configPath,
    suites: plan.suites.map((s) => ({ name: s.name, cases: s.cases.length })),
    endpoints,
    cost,
    totalMaxUsd: priced.length ? Number(priced.reduce((a, c) => a + (c.maxUsd ?? 0), 0).toFixed(6)) : null,
  };
}
