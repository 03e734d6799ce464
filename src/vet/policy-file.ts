/** policy.yaml → Policy, validated with zod; errors name the file and line (loaded only with --policy). */
import { z } from "zod";
import { loadYamlFile } from "../config/index.js";
import type { Policy } from "./policy.js";
import { SEVERITIES } from "./types.js";

const lists = z.strictObject({ allow: z.array(z.string()).optional(), review: z.array(z.string()).optional(), deny: z.array(z.string()).optional() });

export const policySchema = z.strictObject({
  failOn: z.enum(SEVERITIES).default("high"),
  licenses: lists.extend({ requireCommercial: z.boolean().optional() }).optional(),
  origins: lists.optional(),
  formats: z.strictObject({ require: z.array(z.string()).min(1) }).optional(),
  remoteCode: z.enum(["allow", "review", "deny"]).default("deny"),
  allowGlobals: z.array(z.string().regex(/^[\w.]+(\.\*)?$/, 'a dotted Python name such as "sklearn.linear_model._logistic.LogisticRegression"')).default([]),
});

export function loadPolicy(file: string): Policy {
  return loadYamlFile(file, policySchema, "policy", "pass --policy policy.yaml");
}
