/**
 * A run's Report for the run page. Small runs build it in this process (src/report's buildReport).
 * Big runs build it in a child `weightbridge report RUN --format json`: buildReport holds every
 * result of the run in memory (about 1.8 GB for 1,000,000 results), which would make the
 * long-running UI server keep that heap and stall every other request while it computes. The child
 * frees it on exit; one build per run at a time; finished runs' reports are kept.
 */
import { spawn } from "node:child_process";
import type { Report } from "../../report/index.js";
import { buildReport } from "../../report/index.js";
import type { StoreHandle } from "../../store/index.js";
import { packagePath } from "../../util/package-root.js";
import { ApiError } from "./http.js";

/** Results above which the Report is built in a child process (by default). */
export const CHILD_ABOVE = 100_000;
/** Bytes of Report JSON accepted from the child. */
const MAX_JSON = 64 * 1024 * 1024;

function reportInChild(store: StoreHandle, runId: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [packagePath("bin", "weightbridge.js"), "report", runId, "--format", "json"], {
      env: { ...process.env, WEIGHTBRIDGE_DATABASE_URL: store.url, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let size = 0;
    let err = "";
    p.stdout.on("data", (d: Buffer) => {
      size += d.length;
      if (size > MAX_JSON) p.kill("SIGKILL");
      else out.push(d);
    });
    p.stderr.on("data", (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    p.on("error", reject);
    p.on("close", (code) => {
      if (code !== 0) return reject(new ApiError(code === 2 ? 422 : 500, `building the report failed: ${err.trim().split("\n")[0] ?? `exit ${code}`}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString("utf8")) as Report);
      } catch (e) {
        reject(e);
      }
    });
  });
}

export class ReportCache {
  private readonly done = new Map<string, Report>();
  private readonly pending = new Map<string, Promise<Report>>();
  constructor(
    private readonly store: StoreHandle,
    private readonly childAbove = CHILD_ABOVE,
  ) {}

  async get(runId: string, results: number, finished: boolean): Promise<Report> {
    const kept = this.done.get(runId);
    if (kept) return kept;
    const inFlight = this.pending.get(runId);
    if (inFlight) return inFlight;
    const job = (results > this.childAbove ? reportInChild(this.store, runId) : buildReport(this.store, runId)).finally(() => this.pending.delete(runId));
    this.pending.set(runId, job);
    const report = await job;
    if (finished) this.done.set(runId, report);
    return report;
  }
}
