import { resolve } from "node:path";
import type { Command } from "commander";
import { UserError } from "../util/errors.js";
import { createProgress, wantsProgress } from "../util/progress.js";
import { printJson, say } from "./output.js";

export function registerPull(program: Command): void {
  program
    .command("pull <ref>")
    .description("download a GGUF (or any file) from a Hugging Face model repository, resumable and sha256-checked")
    .requiredOption("--file <name>", "file inside the repository, e.g. qwen2.5-0.5b-instruct-q4_k_m.gguf")
    .option("-o, --out <dir>", "folder to write into", "models")
    .option("--json", "print {dest, size, sha256, commit, verified} as JSON")
    .addHelpText(
      "after",
      `
HF_ENDPOINT (default https://huggingface.co) and HF_TOKEN are respected.

Examples:
  weightbridge pull hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF --file qwen2.5-0.5b-instruct-q4_k_m.gguf
  weightbridge pull hf:bartowski/Llama-3.2-1B-Instruct-GGUF@main --file Llama-3.2-1B-Instruct-Q4_K_M.gguf -o ./models`,
    )
    .action(async (ref: string, o: { file: string; out: string; json?: boolean }) => {
      // The Hub code (and zod, which it validates answers with) loads when pull runs, not at every start-up.
      const { downloadFile, parseHfRef } = await import("../hub/index.js");
      const hf = parseHfRef(ref);
      if (!hf) throw new UserError(`"${ref}" is not a Hub reference`, "write hf:ORG/REPO or hf:ORG/REPO@REVISION");
      const dest = resolve(o.out, o.file.split("/").pop() ?? o.file);
      const bar = createProgress("pull", 1, wantsProgress(Boolean(o.json)));
      try {
        const r = await downloadFile({ repo: hf.repo, path: o.file, revision: hf.revision, dest, onProgress: (b, t) => bar.update(b, t) });
        bar.stop();
        if (o.json) return printJson(r);
        say(
          `${r.dest}: ${r.size} bytes, sha256 ${r.sha256} ${r.verified ? "(matches the Hub)" : "(the Hub gave no LFS hash to check)"}${r.resumedFrom ? `, resumed at byte ${r.resumedFrom}` : ""}`,
        );
      } finally {
        bar.stop();
      }
    });
}
