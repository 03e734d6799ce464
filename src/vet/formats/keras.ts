/**
 * Keras: v3 `.keras` archives (config.json inside a zip) and legacy HDF5 files (model_config JSON in
 * an attribute). Lambda layers carry Python bytecode (marshal) or source that runs on load when safe
 * mode is off; Keras 3 configs also name arbitrary modules to import.
 */
import { classifyGlobal } from "../globals.js";
import type { ByteSource } from "../source.js";
import type { Issue } from "../types.js";
import type { FormatDef } from "./format.js";

const SUSPICIOUS_CODE = /\b(os|subprocess|system|popen|exec|eval|__import__|socket|urllib|requests|builtins|open)\b/;

/** Walk a Keras config JSON for Lambda layers and module references. */
export function scanKerasConfig(config: unknown, where: string): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  const reported = new WeakSet<object>();
  const visit = (v: unknown, depth: number): void => {
    if (depth > 200 || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (!reported.has(o) && (o.class_name === "Lambda" || o.class_name === "__lambda__")) {
      const cfg = (o.config ?? {}) as Record<string, unknown>;
      const fn = cfg.function ?? cfg.code ?? cfg;
      if (fn && typeof fn === "object") reported.add(fn);
      const raw = JSON.stringify(fn ?? "");
      let decoded = raw;
      for (const s of raw.match(/[A-Za-z0-9+/=]{16,}/g) ?? []) decoded += Buffer.from(s, "base64").toString("latin1");
      const bad = SUSPICIOUS_CODE.exec(decoded);
      const key = `${o.class_name}:${(cfg.name as string) ?? ""}`;
      if (!seen.has(key)) {
        seen.add(key);
        issues.push({
          severity: bad ? "critical" : "high",
          rule: "keras.lambda",
          message: `${where}: Lambda layer "${(cfg.name as string) ?? "?"}" holds Python code that runs when the model loads with safe_mode off`,
          ...(bad ? { evidence: `code mentions ${bad[1]}` } : {}),
        });
      }
    }
    if (typeof o.module === "string" && typeof o.class_name === "string" && !/^(keras|tensorflow|tf_keras)(\.|$)/.test(o.module)) {
      const cls = classifyGlobal(o.module, o.class_name);
      if (cls !== "allowed")
        issues.push({
          severity: cls === "dangerous" ? "critical" : "medium",
          rule: "keras.custom-object",
          message: `${where}: the config deserialises ${o.module}.${o.class_name}, imported from outside Keras`,
          evidence: `${o.module}.${o.class_name}`,
        });
    }
    for (const x of Object.values(o)) visit(x, depth + 1);
  };
  visit(config, 0);
  return issues;
}

/** Legacy HDF5: find the model_config JSON by searching the bytes (bounded, chunked). */
export function scanH5(src: ByteSource): Issue[] {
  const issues: Issue[] = [];
  const CHUNK = 1 << 20;
  const OVERLAP = 256;
  const limit = Math.min(src.size, 1 << 30);
  let lambdaAt = -1;
  let codeHint: string | undefined;
  for (let p = 0; p < limit && lambdaAt < 0; p += CHUNK) {
    const text = src.read(p, CHUNK + OVERLAP).toString("latin1");
    const m = /"class_name":\s*"Lambda"/.exec(text);
    if (m) {
      lambdaAt = p + m.index;
      const around = src.read(lambdaAt, 64 << 10).toString("latin1");
      let decoded = around;
      for (const s of around.match(/[A-Za-z0-9+/=]{16,}/g) ?? []) decoded += Buffer.from(s, "base64").toString("latin1");
      codeHint = SUSPICIOUS_CODE.exec(decoded)?.[1];
    }
  }
  if (lambdaAt >= 0)
    issues.push({
      severity: codeHint ? "critical" : "high",
      rule: "keras.lambda",
      message: "legacy HDF5 Keras model with a Lambda layer: its marshalled Python code runs when the model loads",
      evidence: `model_config at byte ${lambdaAt}${codeHint ? `; code mentions ${codeHint}` : ""}`,
    });
  return issues;
}

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Legacy Keras HDF5 (.h5); `.keras` archives are zips, handled by the zip container. */
export const h5Format: FormatDef = {
  magic: (head) => (head.length >= 8 && head.subarray(0, 8).equals(HDF5_MAGIC) ? "h5" : undefined),
  scan: ({ src }, format) => ({ format, issues: scanH5(src) }),
};
