/**
 * Adoption policy (policy.yaml): which licenses and origins pass, need review or fail; required
 * weight formats; whether remote code may ship; the severity that fails; allowlist additions.
 * The verdict: fail on any finding at or above `failOn` or any deny; review on anything else a person
 * should look at (medium findings, review lists, unknown license); pass otherwise.
 */
import type { LicenseReport } from "./checks/license.js";
import type { OriginReport } from "./checks/origin.js";
import { atLeast, type Finding, type ScannedFile, type Severity } from "./types.js";

/** Allow / review / deny lists; values match case-insensitively. */
export interface PolicyLists {
  allow?: string[] | undefined;
  review?: string[] | undefined;
  deny?: string[] | undefined;
}

/** The parsed policy (policy-file.ts validates the YAML into this). */
export interface Policy {
  failOn: Severity;
  licenses?: (PolicyLists & { requireCommercial?: boolean | undefined }) | undefined;
  origins?: PolicyLists | undefined;
  formats?: { require: string[] } | undefined;
  remoteCode: "allow" | "review" | "deny";
  allowGlobals: string[];
}

export const DEFAULT_POLICY: Policy = { failOn: "high", remoteCode: "deny", allowGlobals: [] };

const WEIGHT_FORMATS = new Set(["pickle", "compressed-pickle", "pytorch-zip", "torchscript", "safetensors", "gguf", "numpy", "npz", "keras", "h5", "onnx"]);

type Decision = "allow" | "review" | "deny" | undefined;
function decide(l: PolicyLists | undefined, values: (string | null | undefined)[]): Decision {
  if (!l) return undefined;
  const v = values.filter((x): x is string => Boolean(x)).map((x) => x.toLowerCase());
  const hit = (xs?: string[]) => xs?.some((x) => v.includes(x.toLowerCase()));
  if (hit(l.deny)) return "deny";
  if (hit(l.review)) return "review";
  if (hit(l.allow)) return "allow";
  return l.allow ? "deny" : "review";
}

export interface Verdict {
  verdict: "pass" | "review" | "fail";
  reasons: string[];
}

/** Policy findings (added to the report) and the verdict. */
export function applyPolicy(
  policy: Policy,
  files: ScannedFile[],
  findings: Finding[],
  license: LicenseReport,
  origin: OriginReport,
  opts: { bareFile?: boolean } = {},
): { findings: Finding[]; verdict: Verdict } {
  const extra: Finding[] = [];
  // A bare weights file rarely carries its licence; saying so is a note unless the policy asks for one.
  const licenseNote = opts.bareFile === true && !policy.licenses;
  const denies: string[] = [];
  const reviews: string[] = [];
  const adjusted = findings.map((f) => {
    if (f.rule === "license.unknown" && licenseNote) return { ...f, severity: "info" as Severity };
    if (f.rule !== "repo.remote-code" && f.rule !== "repo.python-code") return f;
    if (policy.remoteCode === "allow") return { ...f, severity: "info" as Severity };
    if (policy.remoteCode === "review") return { ...f, severity: "medium" as Severity };
    return f;
  });
  const lic = decide(policy.licenses, [license.id, license.spdx]);
  if (lic === "deny") denies.push(`license ${license.id} is not allowed`);
  if (lic === "review") reviews.push(`license ${license.id} needs review`);
  if (policy.licenses?.requireCommercial && license.commercial !== "yes") {
    const msg = `license ${license.id} ${license.commercial === "conditional" ? "allows commercial use only under conditions" : license.commercial === "no" ? "forbids commercial use" : "is unknown"}`;
    if (license.commercial === "no") denies.push(msg);
    else reviews.push(msg);
  }
  const root = origin.root;
  const ori = decide(policy.origins, [root?.country, root?.lab, root?.org, origin.uploader?.org]);
  if (ori === "deny") denies.push(`origin ${root?.lab ?? root?.org ?? "unknown"} (${root?.country ?? "?"}) is not allowed`);
  if (ori === "review") reviews.push(`origin ${root?.lab ?? root?.org ?? "unknown"} (${root?.country ?? "?"}) needs review`);
  if (policy.formats) {
    const allowed = new Set(policy.formats.require);
    for (const f of files)
      if (WEIGHT_FORMATS.has(f.format) && !allowed.has(f.format))
        extra.push({
          severity: "high",
          rule: "policy.format",
          file: f.path,
          message: `weights in ${f.format} format; policy requires ${[...allowed].join(" or ")}`,
        });
  }
  for (const d of denies) extra.push({ severity: "high", rule: "policy.deny", file: "", message: d });
  for (const r of reviews) extra.push({ severity: "medium", rule: "policy.review", file: "", message: r });
  const all = [...adjusted, ...extra];
  const failing = all.filter((f) => atLeast(f.severity, policy.failOn));
  const reasons: string[] = [];
  if (failing.length || denies.length) {
    reasons.push(...denies);
    if (failing.length) reasons.push(`${failing.length} finding(s) at or above ${policy.failOn}`);
    return { findings: all, verdict: { verdict: "fail", reasons } };
  }
  const medium = all.filter((f) => atLeast(f.severity, "medium"));
  if (medium.length || reviews.length || (license.id === "unknown" && !licenseNote)) {
    reasons.push(...reviews);
    if (medium.length) reasons.push(`${medium.length} finding(s) to review`);
    return { findings: all, verdict: { verdict: "review", reasons } };
  }
  const checked = [
    `license ${license.id}${licenseNote && license.id === "unknown" ? " (a bare file; no policy asks for one)" : ""}${policy.licenses ? " allowed" : ""}`,
    ...(policy.origins ? ["origin allowed"] : []),
  ];
  return { findings: all, verdict: { verdict: "pass", reasons: [`no findings at or above medium; ${checked.join(", ")}`] } };
}
