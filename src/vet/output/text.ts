/** The reviewer's one-screen summary: verdict, why, license, origin, worst findings, files. */
import type { ScanReport } from "../scan.js";
import { SEVERITIES, severityRank } from "../types.js";

function human(n: number): string {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < u.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 && i ? v.toFixed(1) : Math.round(v)} ${u[i]}`;
}

export function toText(r: ScanReport, maxFindings = 12): string {
  const out: string[] = [];
  const counts = SEVERITIES.slice()
    .reverse()
    .map((s) => [s, r.findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  out.push(
    `${r.verdict.toUpperCase()}  ${r.target}  (${r.stats.files} file${r.stats.files === 1 ? "" : "s"}, ${human(r.stats.bytes)}, ${r.stats.seconds.toFixed(1)} s)`,
  );
  if (r.models.length > 1) {
    out.push(`  models: ${r.models.length}, the verdict is the worst of them`);
    for (const m of r.models) out.push(`    ${m.verdict.toUpperCase().padEnd(7)} ${m.path}  license ${m.license.id}; ${m.reasons.join("; ")}`);
  } else out.push(`  why: ${r.reasons.join("; ")}`);
  if (r.signature) out.push(`  signature: ${r.signature.status}${r.signature.reason ? ` — ${r.signature.reason}` : ""}`);
  if (r.source?.type === "hf")
    out.push(`  source: hf:${r.source.repo} revision ${r.source.revision}${r.source.commit ? ` (commit ${r.source.commit.slice(0, 12)})` : ""}`);
  const l = r.license;
  out.push(
    `  license: ${l.id === "unknown" ? "unknown" : `${l.name} — commercial ${l.commercial}`}${l.userThreshold?.monthlyActiveUsers ? `, over ${(l.userThreshold.monthlyActiveUsers / 1e6).toFixed(0)}M MAU: ${l.userThreshold.obligation}` : ""}${l.attribution ? `; ${l.attribution}` : ""}`,
  );
  const o = r.origin;
  const root = o.root;
  out.push(
    `  origin: ${root ? `${root.lab ?? root.org} (${root.country ?? "country unknown"})` : "unknown (pass --repo ORG/NAME for a local folder)"}${o.chain.length ? ` via base_model ${o.chain.map((c) => c.repo).join(" → ")}` : ""}${o.uploader && o.chain.length ? `; uploaded by ${o.uploader.org}` : ""}`,
  );
  out.push(`  findings: ${counts.length ? counts.join(", ") : "none"}`);
  const shown = r.findings.filter((f) => severityRank(f.severity) >= severityRank("low")).slice(0, maxFindings);
  for (const f of shown) out.push(`    ${f.severity.padEnd(8)} ${f.rule.padEnd(26)} ${f.file || "."}: ${f.message}${f.evidence ? ` [${f.evidence}]` : ""}`);
  const hidden = r.findings.length - shown.length;
  if (hidden > 0) out.push(`    … ${hidden} more (use --format json)`);
  const byFormat = new Map<string, number>();
  for (const f of r.files) byFormat.set(f.format, (byFormat.get(f.format) ?? 0) + 1);
  out.push(`  files: ${[...byFormat].map(([k, n]) => `${n} ${k}`).join(", ")}`);
  return `${out.join("\n")}\n`;
}
