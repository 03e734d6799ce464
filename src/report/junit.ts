/**
 * JUnit XML for CI test reporters (GitLab, Jenkins, GitHub actions that read JUnit): eval results as
 * one testcase per case × model, red-team attacks as one testcase per attack (a successful attack is
 * a failure). Characters XML 1.0 forbids (model outputs can carry any) are dropped, not escaped.
 */
import type { ResultRecord } from "../records/index.js";
import { escapeXml } from "../util/xml.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: naming the control characters XML allows is the point
const INVALID_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const x = (s: string) => escapeXml(s.replace(INVALID_XML, "")).replace(/'/g, "&apos;");
const clip = (s: string, n = 2000) => (s.length > n ? `${s.slice(0, n)}…` : s);

export interface JunitCase {
  classname: string;
  name: string;
  timeS: number;
  failure?: { message: string; body: string };
  error?: { message: string };
}

export function renderJunit(name: string, suites: Map<string, JunitCase[]>): string {
  const all = [...suites.values()].flat();
  const count = (cs: JunitCase[]) => ({
    tests: cs.length,
    failures: cs.filter((c) => c.failure).length,
    errors: cs.filter((c) => c.error).length,
    time: cs.reduce((a, c) => a + c.timeS, 0).toFixed(3),
  });
  const t = count(all);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${x(name)}" tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" time="${t.time}">`,
  ];
  for (const [suite, cases] of suites) {
    const c = count(cases);
    out.push(`  <testsuite name="${x(suite)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" time="${c.time}">`);
    for (const k of cases) {
      const open = `    <testcase classname="${x(k.classname)}" name="${x(k.name)}" time="${k.timeS.toFixed(3)}"`;
      if (k.error) out.push(`${open}>`, `      <error message="${x(clip(k.error.message, 500))}"/>`, "    </testcase>");
      else if (k.failure)
        out.push(`${open}>`, `      <failure message="${x(clip(k.failure.message, 500))}">${x(clip(k.failure.body))}</failure>`, "    </testcase>");
      else out.push(`${open}/>`);
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}

const caseName = (r: ResultRecord) => (r.repeat ? `${r.caseId} #${r.repeat + 1}` : r.caseId);

/** Eval: one testcase per case × model (× repeat); a failed grade is a failure, a failed request an error. */
export function evalJunit(runId: string, rows: readonly ResultRecord[]): string {
  const suites = new Map<string, JunitCase[]>();
  for (const r of rows) {
    const key = `${r.suite} / ${r.modelId}`;
    const list = suites.get(key) ?? [];
    const grades = r.grades
      .map((g) => `${g.type}: ${g.pass ? "pass" : "fail"} (${g.score.toFixed(2)})${g.detail ? ` ${JSON.stringify(g.detail)}` : ""}`)
      .join("\n");
    list.push({
      classname: `${r.suite}.${r.modelId}`,
      name: caseName(r),
      timeS: (r.latencyMs ?? 0) / 1000,
      ...(r.error !== null
        ? { error: { message: r.error } }
        : !r.passed
          ? { failure: { message: `score ${r.score.toFixed(2)}`, body: `${grades}\n\noutput:\n${r.output ?? ""}` } }
          : {}),
    });
    suites.set(key, list);
  }
  return renderJunit(`weightbridge eval ${runId}`, suites);
}

/** Red-team: one testcase per attack; the attack succeeding is the failure. */
export function redteamJunit(runId: string, rows: readonly ResultRecord[]): string {
  const suites = new Map<string, JunitCase[]>();
  for (const r of rows) {
    const key = `${r.suite} / ${r.modelId}`;
    const list = suites.get(key) ?? [];
    const input = [...r.messages].reverse().find((m) => m.role === "user")?.content ?? "";
    list.push({
      classname: `redteam.${r.suite}.${r.modelId}`,
      name: caseName(r),
      timeS: (r.latencyMs ?? 0) / 1000,
      ...(r.error !== null
        ? { error: { message: r.error } }
        : r.score >= 1
          ? { failure: { message: "attack succeeded", body: `attack:\n${input}\n\nanswer:\n${r.output ?? ""}` } }
          : {}),
    });
    suites.set(key, list);
  }
  return renderJunit(`weightbridge redteam ${runId}`, suites);
}

/** Scan: one testcase per finding, classname = its rule; a finding at or above `failAt` fails (default: medium, as the policy's default). */
export function scanJunit(
  target: string,
  findings: readonly { severity: string; rule: string; file: string; message: string; evidence?: string }[],
  failAt = "medium",
): string {
  const order = ["info", "low", "medium", "high", "critical"];
  const cases: JunitCase[] = findings.map((f) => ({
    classname: `scan.${f.rule}`,
    name: `${f.severity} ${f.file || target}`,
    timeS: 0,
    ...(order.indexOf(f.severity) >= order.indexOf(failAt) ? { failure: { message: `${f.severity} ${f.rule}: ${f.message}`, body: f.evidence ?? "" } } : {}),
  }));
  return renderJunit(`weightbridge scan ${target}`, new Map([[target, cases]]));
}
