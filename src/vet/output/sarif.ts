/** SARIF 2.1.0 for code-scanning dashboards: one result per finding, rules from the rule ids. */
import type { ScanReport } from "../scan.js";
import type { Severity } from "../types.js";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = { critical: "error", high: "error", medium: "warning", low: "note", info: "note" };
const SCORE: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.0", low: "2.0", info: "0.0" };

export function toSarif(r: ScanReport, toolVersion: string): string {
  const rules = [...new Set(r.findings.map((f) => f.rule))].sort();
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "weightbridge",
            version: toolVersion,
            informationUri: "https://github.com/weightbridge/weightbridge",
            rules: rules.map((id) => {
              const worst = r.findings.filter((f) => f.rule === id).sort((a, b) => Number(SCORE[b.severity]) - Number(SCORE[a.severity]))[0];
              return {
                id,
                shortDescription: { text: id },
                properties: { "security-severity": SCORE[worst?.severity ?? "medium"], tags: ["security", "model-artifact"] },
              };
            }),
          },
        },
        results: r.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: rules.indexOf(f.rule),
          level: LEVEL[f.severity],
          message: { text: f.evidence ? `${f.message} (${f.evidence})` : f.message },
          locations: [{ physicalLocation: { artifactLocation: { uri: f.file || r.target.replace(/^hf:/, "") } } }],
          properties: { severity: f.severity },
        })),
        properties: { verdict: r.verdict, models: r.models.map((m) => ({ path: m.path, verdict: m.verdict, reasons: m.reasons, license: m.license.id })) },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
