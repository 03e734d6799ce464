/** The grader registry: one entry per `expect.type`, typed so a missing grader fails to compile. */
import type { Expect, ExpectType } from "../../config/index.js";
import { jsonMatch, jsonSchema } from "./json.js";
import { label } from "./label.js";
import { llmJudge } from "./llm-judge.js";
import { number } from "./number.js";
import { ranking } from "./ranking.js";
import { similarity } from "./similarity.js";
import { contains, containsAll, containsAny, equals, regex } from "./text.js";
import { toolCall, toolSequence } from "./tools.js";
import type { GradeContext, GradeRecord, Grader } from "./types.js";

export const GRADERS: { [T in ExpectType]: Grader<T> } = {
  equals,
  contains,
  "contains-any": containsAny,
  "contains-all": containsAll,
  regex,
  "json-schema": jsonSchema,
  "json-match": jsonMatch,
  number,
  label,
  ranking,
  "llm-judge": llmJudge,
  similarity,
  "tool-call": toolCall,
  "tool-sequence": toolSequence,
  // Loaded on first use: its PII detector brings libphonenumber's metadata (130 KB) to start-up.
  redteam: async (e, ctx) => (await import("./redteam/index.js")).redteam(e, ctx),
};

export interface CaseGrade {
  grades: GradeRecord[];
  /** Mean of the expects' scores, in [0, 1]. */
  score: number;
  /** Every expect passed. */
  passed: boolean;
}

export async function gradeCase(expects: readonly Expect[], ctx: GradeContext): Promise<CaseGrade> {
  const grades: GradeRecord[] = [];
  for (const e of expects) {
    const g = GRADERS[e.type] as Grader<ExpectType>;
    grades.push(await g(e as never, ctx));
  }
  const score = grades.reduce((a, g) => a + g.score, 0) / grades.length;
  return { grades, score, passed: grades.every((g) => g.pass) };
}

export { type LabelMetrics, labelMetrics } from "./label.js";
export { judgeMessages, parseVerdict } from "./llm-judge.js";
export { parseRankedIds, type RankingMetrics, rankingMetrics } from "./ranking.js";
export { cosine } from "./similarity.js";
export { callMatches, parseArguments } from "./tools.js";
export { type AnswerTurn, type GradeContext, GradeError, type GradeRecord } from "./types.js";
