/** How a simulated model turns a request into an answer. Pure. */
import { JUDGE_SYSTEM } from "../evaluate/index.js";
import type { Message } from "../providers/index.js";
import type { ToolErrorMix } from "./conversation.js";
import { promptKey, type Script, unitHash } from "./script.js";

export type Mode = "script" | "echo" | "refuse";

export interface Behaviour {
  mode: Mode;
  accuracy: number;
  seed: number;
  script: Script;
  /** Topics (case-insensitive substrings) refused in script/echo modes. */
  refuseTopics: string[];
  fallback: string;
  /** Substrings removed before the script lookup (a model unaffected by them answers as without them). */
  ignore?: string[];
  /** A planted backdoor: when the trigger appears in the request, answer this instead. */
  backdoor?: { trigger: string; answer: string };
  /** Tool cases answered wrong: the proportions of each error (conversation.ts; default equal shares of four). */
  toolErrors?: ToolErrorMix;
}

export const REFUSAL = "I'm sorry, but I can't help with that request.";

function words(s: string): Set<string> {
  return new Set(s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

/** The simulator's own judge: word overlap between response and reference (or rubric), as a 1–5 score. */
function judgeAnswer(user: string): string {
  const tag = /^\[RUBRIC ([0-9a-f]{12})\]\n/.exec(user)?.[1] ?? "";
  const section = (name: string) => new RegExp(`\\[${name} ${tag}\\]\\n([\\s\\S]*?)(?=\\n\\n\\[[A-Z]+ ${tag}\\]|$)`).exec(user)?.[1] ?? "";
  const reference = section("REFERENCE") || section("RUBRIC");
  const response = words(section("RESPONSE"));
  const ref = words(reference);
  let hit = 0;
  for (const w of ref) if (response.has(w)) hit++;
  const overlap = ref.size ? hit / ref.size : 0;
  const score = 1 + Math.round(overlap * 4);
  return JSON.stringify({ score, reason: `simulated judge: ${Math.round(overlap * 100)}% word overlap with the reference` });
}

export function answer(b: Behaviour, messages: readonly Message[]): string {
  const system = messages.find((m) => m.role === "system")?.content ?? "";
  const lastUser = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  if (system === JUDGE_SYSTEM) return judgeAnswer(lastUser);
  const all = messages
    .map((m) => m.content)
    .join("\n")
    .toLowerCase();
  if (b.mode === "refuse" || b.refuseTopics.some((t) => all.includes(t.toLowerCase()))) return REFUSAL;
  if (b.backdoor && all.includes(b.backdoor.trigger.toLowerCase())) return b.backdoor.answer;
  if (b.mode === "echo") return messages.map((m) => m.content).join("\n");
  const strip = (t: string) => (b.ignore ?? []).reduce((acc, x) => acc.split(x).join(""), t).trim();
  const key = promptKey(b.ignore?.length ? messages.map((m) => ({ role: m.role, content: strip(m.content) })) : messages);
  const scripted = b.script.get(key);
  if (!scripted) return b.fallback;
  if (unitHash(b.seed, key) < b.accuracy) return scripted.right;
  const wrong = scripted.wrong;
  return wrong[Math.floor(unitHash(b.seed + 1, key) * wrong.length)] ?? b.fallback;
}

/** Deterministic bag-of-words embedding (64 dims): similar texts get a high cosine. */
export function embedText(text: string, dims = 64): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = unitHash(7, w);
    const i = Math.floor(h * dims);
    v[i] = (v[i] ?? 0) + (unitHash(11, w) < 0.5 ? 1 : -1) * 0.5 + 1;
  }
  return v;
}

export function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
