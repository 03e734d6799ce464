import type { Case, Expect, ExpectType } from "../../config/index.js";
import type { Message, ToolCall } from "../../providers/index.js";
import type { GradeRecord } from "../../records/index.js";

export type { GradeRecord };

/** What a grader may use besides the output. Model-backed graders get their I/O injected. */
/** One model answer of a conversation: its text and the calls it made through the API's tool channel. */
export interface AnswerTurn {
  text: string;
  toolCalls: ToolCall[];
}

export interface GradeContext {
  /** The final answer's text (every text grader applies to it). */
  output: string;
  /** Every model answer of the conversation in order (tool graders read these); absent = one answer, `output`, without calls. */
  answers?: readonly AnswerTurn[];
  testCase: Pick<Case, "vars" | "ideal" | "messages" | "id">;
  /** Ask a judge model (llm-judge); `model` is the expect's model or the config's `judge`. */
  judge?: (model: string | undefined, messages: Message[]) => Promise<string>;
  /** Embed texts (similarity); `model` is the expect's model or the config's `embedder`. */
  embed?: (model: string | undefined, texts: string[]) => Promise<number[][]>;
}

export type Grader<T extends ExpectType> = (expect: Extract<Expect, { type: T }>, ctx: GradeContext) => GradeRecord | Promise<GradeRecord>;

/** A grader that cannot grade (judge unreachable, verdict unparseable): the case is recorded as errored. */
export class GradeError extends Error {
  override name = "GradeError";
}

export function binary(type: string, pass: boolean, detail?: Record<string, unknown>): GradeRecord {
  return { type, score: pass ? 1 : 0, pass, ...(detail ? { detail } : {}) };
}
