/** The weightbridge command line: one file per command, each only parses, calls and prints. */
import { Command, CommanderError } from "commander";
import { packageVersion } from "../util/package-root.js";
import { registerBench } from "./bench.js";
import { registerCost } from "./cost.js";
import { registerDemo } from "./demo.js";
import { registerEval } from "./eval.js";
import { registerGateway } from "./gateway.js";
import { registerInit } from "./init.js";
import { EXIT, reportError } from "./output.js";
import { registerPlan } from "./plan.js";
import { registerPrices } from "./prices.js";
import { registerPull } from "./pull.js";
import { registerRedact } from "./redact.js";
import { registerRedteam } from "./redteam.js";
import { registerReport } from "./report.js";
import { registerRuns } from "./runs.js";
import { registerScan } from "./scan.js";
import { registerScoreboard } from "./scoreboard.js";
import { registerShadow } from "./shadow.js";
import { registerSimulate } from "./simulate.js";
import { registerSuite } from "./suite.js";
import { registerUi } from "./ui.js";
import { registerValidate } from "./validate.js";

export function buildProgram(): Command {
  const program = new Command("weightbridge");
  program
    .description("Move LLM workloads from proprietary APIs to open-weight models — with evidence.")
    .version(packageVersion(), "-V, --version")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .enablePositionalOptions()
    .addHelpText(
      "after",
      `
Quick start:
  npm run demo                                   offline end-to-end demo
  weightbridge eval -c weightbridge.yaml         evaluate models on your suites
  weightbridge runs                              list stored runs

Docs: README.md and docs/ in the package.`,
    );
  registerInit(program);
  registerValidate(program);
  registerEval(program);
  registerRuns(program);
  registerReport(program);
  registerPlan(program);
  registerPrices(program);
  registerBench(program);
  registerCost(program);
  registerScoreboard(program);
  registerScan(program);
  registerRedact(program);
  registerRedteam(program);
  registerGateway(program);
  registerShadow(program);
  registerSuite(program);
  registerSimulate(program);
  registerPull(program);
  registerDemo(program);
  registerUi(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Errors raised outside the command's promise (an 'error' event nobody handles) get the same treatment. */
function catchStrays(): void {
  const onStray = (e: unknown) => {
    process.exitCode = reportError(e);
    process.exit();
  };
  process.on("uncaughtException", onStray);
  process.on("unhandledRejection", onStray);
}

export async function main(argv: string[]): Promise<number> {
  catchStrays();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
      return EXIT.usage;
    }
    return reportError(e);
  }
}
