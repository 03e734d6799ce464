/** Rubric grading by a model. The judge prompt and its raw verdict are stored with the grade. */
import type { Message } from "../../providers/index.js";
import { extractJson } from "./json.js";
import { GradeError, type Grader } from "./types.js";

export const JUDGE_SYSTEM =
  "You are a strict, impartial grader. Grade the RESPONSE against the RUBRIC (and the REFERENCE, if given). " +
  'Reply with JSON only: {"score": <integer 1 to 5>, "reason": "<one sentence>"}. 5 = fully meets the rubric, 1 = does not meet it at all.';

export function judgeMessages(rubric: string, question: string, response: string, reference?: string): Message[] {
  const parts = [`[RUBRIC]\n${rubric}`, `[QUESTION]\n${question}`];
  if (reference) parts.push(`[REFERENCE]\n${reference}`);
  parts.push(`[RESPONSE]\n${response}`);
  return [
    { role: "system", content: JUDGE_SYSTEM },
    { role: "user", content: parts.join("\n\n") },
  ];
}

/** Score 1–5 from a verdict (JSON preferred, "score: N" tolerated), normalised to 0–1. */
export function parseVerdict(raw: string): { score: number; reason?: string } | undefined {
  const j = extractJson(raw);
  if (j.ok && j.value && typeof j.value === "object" && "score" in j.value) {
    const s = Number((j.value as { score: unknown }).score);
    const reason = (j.value as { reason?: unknown }).reason;
    if (Number.isFinite(s) && s >= 1 && s <= 5) return { score: (s - 1) / 4, ...(typeof reason === "string" ? { reason } : {}) };
  }
  const m = /score\W{0,5}([1-5])(?:\s*\/\s*5)?\b/i.exec(raw);
  return m ? { score: (Number(m[1]) - 1) / 4 } : undefined;
}

export const llmJudge: Grader<"llm-judge"> = async (e, ctx) => {
  if (!ctx.judge) throw new GradeError("llm-judge needs a judge model: set `judge:` in the config or `model:` on the expect");
  const question = [...ctx.testCase.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const prompt = judgeMessages(e.rubric, question, ctx.output, ctx.testCase.ideal);
  const raw = await ctx.judge(e.model, prompt);
  const v = parseVerdict(raw);
  if (!v) throw new GradeError(`llm-judge: could not read a 1–5 score from the judge's verdict: ${raw.slice(0, 200)}`);
  const threshold = e.threshold ?? 0.5;
  return {
    type: "llm-judge",
    score: v.score,
    pass: v.score >= threshold,
    detail: { judgePrompt: prompt, verdict: raw, ...(v.reason ? { reason: v.reason } : {}) },
  };
};
