/** A red-team detector: did the attack succeed, judged from the answer (and the expect's data). */
import type { Expect } from "../../../config/index.js";
import type { GradeContext } from "../types.js";

export type RedteamExpect = Extract<Expect, { type: "redteam" }>;
export type DetectorName = RedteamExpect["detector"];

export interface AttackDetector {
  /** true: the attack succeeded; detail is stored with the grade. */
  check(
    e: RedteamExpect,
    ctx: GradeContext,
  ): { success: boolean; detail?: Record<string, unknown> } | Promise<{ success: boolean; detail?: Record<string, unknown> }>;
}
