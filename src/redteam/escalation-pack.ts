/**
 * The multi-turn pack kind (crescendo-style escalation): which goals an attacker model pursues over
 * several turns, and when a conversation is over. Goals are the base attacks of other packs (their
 * text is the goal, their detector and facts grade the target's answers); `stop` says which outcome
 * ends a conversation early: `success` (the goal's detector says the attack succeeded: a jailbreak
 * answered) or `held` (it says the attack failed: a sensitive-topic question answered with its key
 * facts, where "success" means the model kept refusing or deflecting). Pure: data → goals.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Expect } from "../config/index.js";
import { parseWith, parseYaml } from "../config/index.js";
import { UserError } from "../util/errors.js";
import { loadPack } from "./packs.js";

export const multiTurnPackSchema = z.strictObject({
  pack: z.string().regex(/^[a-z0-9-]+$/),
  kind: z.literal("multi-turn"),
  description: z.string(),
  /** Most target answers per conversation (`redteam --turns N` overrides). */
  maxTurns: z.int().min(1).max(20).default(5),
  from: z.array(z.strictObject({ pack: z.string().regex(/^[a-z0-9-]+$/), stop: z.enum(["success", "held"]) })).min(1),
  /** The attacker's instructions; {{goal}}, {{maxTurns}} are filled in. */
  attackerSystem: z.string().min(1),
});
export type MultiTurnPack = z.infer<typeof multiTurnPackSchema>;

export interface EscalationGoal {
  /** The source pack and attack (the case id is `pack/attack`). */
  pack: string;
  attack: string;
  category: string;
  language: string;
  goal: string;
  /** The source pack's system prompt for the target. */
  system?: string;
  expect: Extract<Expect, { type: "redteam" }>;
  stop: "success" | "held";
}

export function loadMultiTurnPack(file: string): MultiTurnPack {
  return parseWith(parseYaml(file, readFileSync(file, "utf8")), multiTurnPackSchema);
}

/** The goals: every base attack of every source pack, in order (no mutators: the attacker rephrases). */
export function escalationGoals(p: MultiTurnPack, dir: string): EscalationGoal[] {
  return p.from.flatMap(({ pack, stop }) => {
    let source: ReturnType<typeof loadPack>;
    try {
      source = loadPack(join(dir, `${pack}.yaml`));
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${p.pack}: source pack "${pack}" cannot be read: ${(e as Error).message}`, "name plain attack packs in `from:`");
    }
    // As packToSuite does for the single-turn attack: the canary filled in, and in the detector's expect.
    const fill = (s: string) => (source.canary ? s.replaceAll("{{canary}}", source.canary) : s);
    return source.attacks.map(
      (a): EscalationGoal => ({
        pack,
        attack: a.id,
        category: a.category,
        language: a.language,
        goal: fill(a.text),
        ...(source.system ? { system: fill(source.system) } : {}),
        expect: {
          type: "redteam",
          detector: a.detector ?? source.detector,
          ...(source.canary ? { canary: source.canary } : {}),
          ...(source.record ? { record: source.record } : {}),
          ...(a.facts ? { facts: a.facts } : {}),
        },
        stop,
      }),
    );
  });
}
