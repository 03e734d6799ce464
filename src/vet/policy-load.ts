/**
 * loadPolicy behind a dynamic import: reading policy.yaml needs zod and the YAML loader of config/,
 * ~300 KB of code that a scan without --policy (most scans) should not load at start-up.
 */
import type { Policy } from "./policy.js";

export async function loadPolicy(file: string): Promise<Policy> {
  return (await import("./policy-file.js")).loadPolicy(file);
}
