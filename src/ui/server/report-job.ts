/**
 * A run's Report for the run page, from the cheapest place that has it: this process's memory, the
 * store's run_reports row (kept for finished runs under a fingerprint of the run and of the red-team
 * runs its Report quotes), or built — one model at a time by run-report.ts, or, for runs that path
 * does not cover, by src/report's buildReport. Above CHILD_ABOVE results the build runs in a child
 * `weightbridge ui --report-json RUN`: even one model at a time, 1,000,000 results raise the heap by
 * hundreds of MB, which a long-running server would keep; the child returns it on exit.
 */
import { spawn } from "node:child_process";
import type { Report } from "../../report/index.js";
import { buildReport } from "../../report/index.js";
import type { StoreHandle } from "../../store/index.js";
import { loadRunReport, saveRunReport } from "../../store/index.js";
import { packagePath, packageVersion } from "../../util/package-root.js";
import { ApiError } from "./http.js";
import { buildRunReport, NeedsFullBuild } from "./run-report.js";

/** Results above which the Report is built in a child process (by default). */
export const CHILD_ABOVE = 100_000;
/** Bytes of Report JSON accepted from the child. */
const MAX_JSON = 64 * 1024 * 1024;

function reportInChild(store: StoreHandle, runId: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [packagePath("bin", "weightbridge.js"), "ui", "--report-json", runId], {
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

/** What a stored Report depends on: the code that built it, the run's state and results, the red-team runs it may quote. */
async function fingerprint(store: StoreHandle, status: string, finishedAt: string | null, results: number): Promise<string> {
  const rt = await store.db
    .selectFrom("runs")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("finished_at").as("last")])
    .where("kind", "=", "redteam")
    .where("status", "=", "completed")
    .executeTakeFirst();
  return [packageVersion(), status, finishedAt ?? "", results, Number(rt?.n ?? 0), rt?.last ?? ""].join("|");
}

export class ReportCache {
  private readonly done = new Map<string, Report>();
  private readonly pending = new Map<string, Promise<Report>>();
  constructor(
    private readonly store: StoreHandle,
    private readonly childAbove = CHILD_ABOVE,
  ) {}

  /** `finished`: the run will not change (its Report is kept in memory and in the store). */
  async get(run: { id: string; status: string; finishedAt: string | null }, results: number, finished: boolean): Promise<Report> {
    const kept = this.done.get(run.id);
    if (kept) return kept;
    const inFlight = this.pending.get(run.id);
    if (inFlight) return inFlight;
    const job = this.load(run, results, finished).finally(() => this.pending.delete(run.id));
    this.pending.set(run.id, job);
    const report = await job;
    if (finished) this.done.set(run.id, report);
    return report;
  }

  private async load(run: { id: string; status: string; finishedAt: string | null }, results: number, finished: boolean): Promise<Report> {
    const fp = finished ? await fingerprint(this.store, run.status, run.finishedAt, results) : null;
    const stored = fp ? await loadRunReport(this.store.db, run.id, fp) : undefined;
    if (stored) return JSON.parse(stored) as Report;
    const report = await this.build(run.id, results);
    // The store may be read-only to this user: the Report is then rebuilt by the next server.
    if (fp) await saveRunReport(this.store.db, run.id, fp, JSON.stringify(report)).catch(() => undefined);
    return report;
  }

  private build(runId: string, results: number): Promise<Report> {
    return results > this.childAbove ? reportInChild(this.store, runId) : runReport(this.store, runId);
  }
}

/** The run page's Report: one model at a time, or buildReport for the runs that path does not cover. */
async function runReport(store: StoreHandle, runId: string): Promise<Report> {
  try {
    return await buildRunReport(store, runId);
  } catch (e) {
    if (!(e instanceof NeedsFullBuild)) throw e;
    return buildReport(store, runId);
  }
}

/** `weightbridge ui --report-json RUN` (the child above): the Report as JSON on stdout. */
export async function printRunReport(store: StoreHandle, runId: string): Promise<void> {
  const json = JSON.stringify(await runReport(store, runId));
  await new Promise<void>((resolve, reject) => process.stdout.write(json, (e) => (e ? reject(e) : resolve())));
}
