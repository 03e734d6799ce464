/**
 * License: what the model card declares (front matter `license`/`license_name`), what the LICENSE
 * text is (fingerprinted against data/licenses.json, so a relabelled text is caught), and GGUF
 * `general.license`; classified for commercial use, user thresholds, attribution and restrictions.
 */
import { readFileSync } from "node:fs";
import { packagePath } from "../../util/package-root.js";
import type { Issue } from "../types.js";

export interface LicenseEntry {
  id: string;
  name: string;
  spdx: string;
  tags: string[];
  fingerprints: string[];
  commercial: "yes" | "no" | "conditional";
  userThreshold?: { monthlyActiveUsers?: number; monthlyRevenueUsd?: number; obligation: string };
  attribution?: string;
  naming?: string;
  restrictions: string[];
}

export interface LicenseReport {
  /** The classified license id (data/licenses.json), or "unknown". */
  id: string;
  name?: string;
  spdx?: string;
  commercial?: LicenseEntry["commercial"];
  userThreshold?: LicenseEntry["userThreshold"];
  attribution?: string;
  naming?: string;
  restrictions?: string[];
  /** Where each signal came from: card tag, LICENSE text, GGUF metadata. */
  sources: { from: string; value: string; id: string }[];
  revision?: string;
}

let table: LicenseEntry[] | undefined;
export function licenseTable(): LicenseEntry[] {
  table ??= (JSON.parse(readFileSync(packagePath("data", "licenses.json"), "utf8")) as { licenses: LicenseEntry[] }).licenses;
  return table;
}

export function byTag(tag: string): LicenseEntry | undefined {
  const t = tag.trim().toLowerCase();
  return licenseTable().find((l) => l.tags.includes(t) || l.id === t || l.spdx.toLowerCase() === t);
}

/** The entry whose fingerprints all occur in the text, preferring the most specific (most phrases). */
export function fingerprint(text: string): LicenseEntry | undefined {
  const norm = text.toLowerCase().replace(/[\s"'“”‘’]+/g, " ");
  let best: LicenseEntry | undefined;
  for (const l of licenseTable()) if (l.fingerprints.every((f) => norm.includes(f)) && (!best || l.fingerprints.length > best.fingerprints.length)) best = l;
  return best;
}

export interface LicenseSignals {
  cardLicense?: string | undefined;
  cardLicenseName?: string | undefined;
  licenseText?: { file: string; text: string } | undefined;
  ggufLicense?: string | undefined;
  revision?: string | undefined;
}

export function classifyLicense(s: LicenseSignals): { report: LicenseReport; issues: Issue[] } {
  const sources: LicenseReport["sources"] = [];
  const issues: Issue[] = [];
  const card = s.cardLicense === "other" && s.cardLicenseName ? s.cardLicenseName : s.cardLicense;
  if (card) sources.push({ from: "model card", value: card, id: byTag(card)?.id ?? "unknown" });
  if (s.licenseText) sources.push({ from: s.licenseText.file, value: "(license text)", id: fingerprint(s.licenseText.text)?.id ?? "unknown" });
  if (s.ggufLicense) sources.push({ from: "GGUF general.license", value: s.ggufLicense, id: byTag(s.ggufLicense)?.id ?? "unknown" });
  // The text is the strongest signal, then the card, then GGUF metadata.
  const known = sources.filter((x) => x.id !== "unknown");
  const textId = s.licenseText ? sources.find((x) => x.from === s.licenseText?.file)?.id : undefined;
  const chosen = textId && textId !== "unknown" ? textId : known[0]?.id;
  const ids = new Set(known.map((x) => x.id));
  if (ids.size > 1)
    issues.push({
      severity: "medium",
      rule: "license.mismatch",
      message: `license signals disagree: ${known.map((x) => `${x.from} says ${x.id}`).join(", ")}`,
    });
  const entry = chosen ? licenseTable().find((l) => l.id === chosen) : undefined;
  if (!entry)
    issues.push({
      severity: "medium",
      rule: "license.unknown",
      message: sources.length
        ? `license not recognised (${sources.map((x) => `${x.from}: ${x.value}`).join("; ")})`
        : "no license found (model card, LICENSE file or GGUF metadata)",
    });
  const report: LicenseReport = entry
    ? {
        id: entry.id,
        name: entry.name,
        spdx: entry.spdx,
        commercial: entry.commercial,
        ...(entry.userThreshold ? { userThreshold: entry.userThreshold } : {}),
        ...(entry.attribution ? { attribution: entry.attribution } : {}),
        ...(entry.naming ? { naming: entry.naming } : {}),
        restrictions: entry.restrictions,
        sources,
      }
    : { id: "unknown", sources };
  if (s.revision) report.revision = s.revision;
  return { report, issues };
}
