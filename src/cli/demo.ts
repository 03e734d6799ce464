import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { UserError } from "../util/errors.js";
import { createProgress, type Progress, wantsProgress } from "../util/progress.js";
import { printJson, say, warn } from "./output.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("offline end-to-end demo: simulated baseline + hosted open model + a tiny local GGUF on the example suites")
    .option("--dir <dir>", "where the demo writes its config, GGUF and store", ".weightbridge-demo")
    .option("--no-local", "skip the local node-llama-cpp model")
    .option("--json", "print the eval summary as JSON")
    .addHelpText("after", "\nExample:\n  npm run demo\n  weightbridge demo --dir /tmp/wb-demo --json")
    .action(async (o: { dir: string; local: boolean; json?: boolean }) => {
      const json = Boolean(o.json);
      let bar: Progress | undefined;
      const started = Date.now();
      checkDemoDir(o.dir);
      const { runDemo } = await import("../demo/index.js");
      const { formatSummary } = await import("./format-eval.js");
      const r = await runDemo({
        dir: o.dir,
        skipLocal: !o.local,
        log: (l) => (json ? undefined : warn(l)),
        onStart: (total) => {
          bar = createProgress("demo", total, wantsProgress(json));
        },
        onProgress: (d, t) => bar?.update(d, t),
      });
      bar?.stop();
      if (json) return printJson(r.eval.summary);
      say("");
      say(formatSummary(r.eval.summary));
      say(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
      say(`Run ${r.eval.runId} stored in ${r.eval.storeLocation}`);
      say(`Config written to ${r.configPath}`);
      say(`HTML report: ${r.reportPath}`);
      say(`${r.scoreboard.headline} (chart: ${r.scoreboard.chartPath})`);
      if (r.artifact)
        say(
          `Artifact scan of ${r.artifact.path}: ${r.artifact.verdict.toUpperCase()} (${r.artifact.reasons.join("; ")}); sha256 ${r.artifact.sha256.slice(0, 16)}…; worst: ${r.artifact.worst}. Full report: node bin/weightbridge.js scan ${r.artifact.path}`,
        );
      say(`Look again: node bin/weightbridge.js runs show ${r.eval.runId} -c ${r.configPath}`);
      say(`Open it in the UI: node bin/weightbridge.js ui -c ${r.configPath} --open  (the run is at http://127.0.0.1:7300/runs/${r.eval.runId})`);
    });
}

/** --dir must be (or become) a writable folder: a file, a read-only or virtual path is a UserError up front. */
function checkDemoDir(dir: string): void {
  const abs = resolve(dir);
  const fail = (why: string) => {
    throw new UserError(`--dir ${abs}: ${why}`, "pass a folder you can write to, e.g. --dir /tmp/wb-demo");
  };
  if (/^\/(proc|sys|dev)(\/|$)/.test(abs)) fail("is on a virtual filesystem");
  try {
    if (!statSync(abs).isDirectory()) fail("exists and is not a folder");
  } catch (e) {
    if (e instanceof UserError) throw e;
    try {
      mkdirSync(abs, { recursive: true });
    } catch (m) {
      fail(`cannot create it (${(m as NodeJS.ErrnoException).code ?? String(m)})`);
    }
  }
  try {
    accessSync(abs, constants.W_OK);
  } catch {
    fail("is not writable");
  }
}
