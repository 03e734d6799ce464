export { loadScanSummary } from "./artifacts.js";
export { type BuildOptions, buildReport, type EvalReportParts, evalReport, redteamSection } from "./build.js";
export { latencyChart, qualityCostChart } from "./charts.js";
export { gateVerdict } from "./gate.js";
export { renderGithub } from "./github.js";
export { renderHtml } from "./html.js";
export * from "./junit.js";
export { evalJunit, redteamJunit, renderJunit } from "./junit.js";
export {
  type BenchReport,
  benchTable,
  buildBenchReport,
  buildRedteamReport,
  type RedteamReport,
  renderBenchHtml,
  renderBenchMarkdown,
  renderRedteamHtml,
  renderRedteamMarkdown,
} from "./kinds.js";
export { renderMarkdown } from "./markdown.js";
export { paretoFrontier } from "./pareto.js";
export { bySuiteCase, type Changed, candidateRow, changedCase, changedOf, firstRepeats, markPareto, modelOverall, pairedOptionsFor, r6 } from "./rows.js";
export { type AdoptionCriteria, type CandidateRow, type ChangedCase, DEFAULT_CRITERIA, type Report, type Verdict } from "./types.js";
export { decideVerdict } from "./verdict.js";
