/** Turn `weightbridge scan --format json` reports into the adoption report's artifact section. */
import { readFileSync } from "node:fs";
import { UserError } from "../util/errors.js";
import type { ArtifactSummary } from "./types.js";

interface ScanJson {
  target?: unknown;
  verdict?: unknown;
  reasons?: string[];
  files?: unknown[];
  findings?: { severity: string; rule: string; file: string; message: string }[];
  license?: { id?: string; name?: string; commercial?: string };
  origin?: { root?: { lab: string | null; country: string | null; repo: string }; chain?: { repo: string }[] };
}

export function loadScanSummary(file: string): ArtifactSummary {
  let j: ScanJson;
  try {
    j = JSON.parse(readFileSync(file, "utf8")) as ScanJson;
  } catch (e) {
    throw new UserError(
      `--scan ${file}: cannot read a scan report (${(e as Error).message})`,
      "write one with: weightbridge scan TARGET --format json -o scan.json",
    );
  }
  if (typeof j.target !== "string" || typeof j.verdict !== "string" || !Array.isArray(j.findings))
    throw new UserError(
      `--scan ${file}: not a weightbridge scan report (target, verdict, findings)`,
      "write one with: weightbridge scan TARGET --format json -o scan.json",
    );
  const counts: Record<string, number> = {};
  for (const f of j.findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return {
    target: j.target,
    verdict: j.verdict,
    reasons: j.reasons ?? [],
    files: j.files?.length ?? 0,
    license: {
      id: j.license?.id ?? "unknown",
      ...(j.license?.name ? { name: j.license.name } : {}),
      ...(j.license?.commercial ? { commercial: j.license.commercial } : {}),
    },
    origin: j.origin?.root ? { lab: j.origin.root.lab, country: j.origin.root.country, chain: (j.origin.chain ?? []).map((c) => c.repo) } : null,
    counts,
    top: j.findings.slice(0, 5).map((f) => ({ severity: f.severity, rule: f.rule, file: f.file, message: f.message })),
  };
}
