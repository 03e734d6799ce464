/**
 * A shadow answer compared with the primary's, the primary being the reference, by the evaluate
 * graders (equals, label, json-match, similarity, llm-judge): the same code that grades eval runs.
 * Pure graders see the texts as answered; model-backed ones (a judge or embeddings deployment) see
 * only the redacted texts, so a helper deployment receives no detected value whatever it accepts.
 */
import type { Expect } from "../../config/index.js";
import { gradeCase } from "../../evaluate/index.js";
import type { GradeRecord } from "../../records/index.js";
import type { ShadowCompare } from "../config.js";

export const PAIRWISE_RUBRIC =
  "The REFERENCE is the answer the current model gave to the QUESTION. Is the RESPONSE at least as good as the REFERENCE " +
  "(as correct, as complete, as helpful, following the QUESTION's instructions)? 5 = at least as good, 3 = slightly worse, 1 = clearly worse.";

export interface PairTexts {
  primary: string;
  shadow: string;
  /** The same texts with every detected value replaced, and the request's last user message so. */
  primaryRedacted: string;
  shadowRedacted: string;
  question: string;
}

export interface Helpers {
  judge(deployment: string, messages: { role: "system" | "user"; content: string }[]): Promise<string>;
  embed(deployment: string, texts: string[]): Promise<number[][]>;
}

export interface Compared {
  grades: GradeRecord[];
  score: number;
  passed: boolean;
}

/** Grade the shadow answer against the primary's with each comparison; throws GradeError when one cannot grade. */
export async function comparePair(compare: readonly ShadowCompare[], t: PairTexts, helpers: Helpers): Promise<Compared> {
  const grades: GradeRecord[] = [];
  for (const c of compare) {
    const modelBacked = c.type === "similarity" || c.type === "llm-judge";
    const output = modelBacked ? t.shadowRedacted : t.shadow;
    const reference = modelBacked ? t.primaryRedacted : t.primary;
    const expect = toExpect(c, reference);
    const g = await gradeCase([expect], {
      output,
      testCase: { id: "shadow", vars: {}, messages: [{ role: "user", content: t.question }], ideal: reference },
      judge: (_m, messages) => helpers.judge((c as { deployment: string }).deployment, messages as { role: "system" | "user"; content: string }[]),
      embed: (_m, texts) => helpers.embed((c as { deployment: string }).deployment, texts),
    });
    grades.push(...g.grades);
  }
  const score = grades.reduce((a, g) => a + g.score, 0) / grades.length;
  return { grades, score, passed: grades.every((g) => g.pass) };
}

function toExpect(c: ShadowCompare, reference: string): Expect {
  switch (c.type) {
    case "equals":
      return { type: "equals", value: reference };
    case "label":
      return { type: "label", value: reference };
    case "json-match":
      return { type: "json-match", value: jsonObject(reference) };
    case "similarity":
      return { type: "similarity", value: reference || " ", threshold: c.threshold };
    case "llm-judge":
      return { type: "llm-judge", rubric: c.rubric ?? PAIRWISE_RUBRIC, threshold: c.threshold };
  }
}

/** The primary's answer as the object json-match compares with; an answer that is not one matches nothing. */
function jsonObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {}
  return { "(the primary answer is not a JSON object)": text };
}
