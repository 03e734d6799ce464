/**
 * What an evaluation records for each (suite, case, model, repeat): evaluate's domain types (issue 17:
 * each part owns its types, the store maps them to rows). They sit on this low floor, not in
 * evaluate/, because the store, which lies below evaluate, maps them to the `results` table and back.
 */
import type { Message } from "../providers/index.js";

/** One grader's verdict on an answer. */
export interface GradeRecord {
  type: string;
  score: number;
  pass: boolean;
  detail?: Record<string, unknown>;
}

export interface ResultRecord {
  runId: string;
  suite: string;
  caseIndex: number;
  caseId: string;
  modelId: string;
  repeat: number;
  messages: Message[];
  output: string | null;
  grades: GradeRecord[];
  score: number;
  passed: boolean;
  inputTokens: number;
  outputTokens: number;
  /** Integer pico-USD (1e-12 USD); null when the model has no price. */
  costPusd: number | null;
  latencyMs: number | null;
  ttftMs: number | null;
  error: string | null;
  cached: boolean;
  attempts: number;
}

/**
 * One model answer of a conversation (a multi-turn or tool case), kept as it arrives so a resumed run
 * replays it instead of asking again. `response` and `facts` are evaluate's JSON (a stored turn and its
 * tool-call fidelity facts); the store keeps them without reading them.
 */
export interface TurnRecord {
  runId: string;
  suite: string;
  caseIndex: number;
  modelId: string;
  repeat: number;
  /** 0 for the answer to the case's messages, then 1, 2… */
  turn: number;
  response: unknown;
  /** null when the case offers no tools. */
  facts: unknown;
}
