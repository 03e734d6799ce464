/**
 * A run's Report for the run page, from the cheapest place that has it: this process's memory, the
 * store's run_reports row (kept for finished runs under a fingerprint of the run and of the red-team
 * runs its Report quotes; `eval` writes it when a run completes, keep.ts), or built — one model at a
 * time by run-report.ts, or, for runs that path does not cover, by src/report's buildReport. A build
 * runs in the background: a request waits for it at most GRACE_MS, then answers with its progress
 * (models built), so a first visit never blocks on it. Above CHILD_ABOVE results the build runs in
 * a child `weightbridge ui --report-json RUN` (progress on its stderr): even one model at a time,
 * 1,000,000 results raise the heap by hundreds of MB, which a long-running server would keep; the
 * child returns it on exit.
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
/** Longest a request waits for a Report being built before it answers with the build's progress. */
export const GRACE_MS = 100;
/** Bytes of Report JSON accepted from the child. */
const MAX_JSON = 64 * 1024 * 1024;

/** The child's progress lines on stderr: models built, models in all. */
const PROGRESS = /^wb-progress (\d+) (\d+)$/;

function reportInChild(store: StoreHandle, runId: string, progress: Progress): Promise<Report> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [packagePath("bin", "weightbridge.js"), "ui", "--report-json", runId], {
      env: { ...process.env, WEIGHTBRIDGE_DATABASE_URL: store.url, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let size = 0;
    let err = "";
    let line = "";
    p.stdout.on("data", (d: Buffer) => {
      size += d.length;
      if (size > MAX_JSON) p.kill("SIGKILL");
      else out.push(d);
    });
    p.stderr.on("data", (d: Buffer) => {
      const lines = (line + d.toString()).split("\n");
      line = (lines.pop() ?? "").slice(-2000);
      for (const l of lines) {
        const m = PROGRESS.exec(l);
        if (m) [progress.done, progress.total] = [Number(m[1]), Number(m[2])];
        else err = `${err}${l}\n`.slice(-2000);
      }
    });
    p.on("error", reject);
    p.on("close", (code) => {
      err += line;
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
export async function reportFingerprint(store: StoreHandle, status: string, finishedAt: string | null, results: number): Promise<string> {
  const rt = await store.db
    .selectFrom("runs")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("finished_at").as("last")])
    .where("kind", "=", "redteam")
    .where("status", "=", "completed")
    .executeTakeFirst();
  return [packageVersion(), status, finishedAt ?? "", results, Number(rt?.n ?? 0), rt?.last ?? ""].join("|");
}

/** How far a build is: models built of models in all (0 of 0 until the first is known). */
export interface Progress {
  done: number;
  total: number;
}

/** The run page's Report, or how far its build has got. */
export type ReportState = { report: Report } | { building: Progress };

interface Job {
  progress: Progress;
  promise: Promise<Report>;
  failed?: unknown;
}

type RunRef = { id: string; status: string; finishedAt: string | null };

/**
 * Reports by run state (id, status, finish time, result count): from memory, from the store's row,
 * else from a build started in the background that a request waits for at most `graceMs` (so a
 * first visit of a run without a stored Report answers at once with the build's progress).
 */
export class ReportCache {
  private readonly done = new Map<string, Report>();
  private readonly jobs = new Map<string, Job>();
  /** The build in flight per run, whatever its state: a run in flight gets one build at a time. */
  private readonly inFlight = new Map<string, Job>();
  /** The newest Report built per run: a run in flight is shown it while a newer one builds. */
  private readonly latest = new Map<string, { key: string; report: Report }>();
  constructor(
    private readonly store: StoreHandle,
    private readonly childAbove = CHILD_ABOVE,
    private readonly graceMs = GRACE_MS,
  ) {}

  /** `finished`: the run will not change (its Report is kept in memory and in the store). `wait`: until built. */
  async get(run: RunRef, results: number, finished: boolean, wait = false): Promise<ReportState> {
    const key = `${run.id}|${run.status}|${run.finishedAt ?? ""}|${results}`;
    const kept = this.done.get(key);
    if (kept) return { report: kept };
    const last = this.latest.get(run.id);
    if (last?.key === key) return { report: last.report };
    let job = this.jobs.get(key) ?? (finished ? undefined : this.inFlight.get(run.id));
    if (!job) {
      const fp = finished ? await reportFingerprint(this.store, run.status, run.finishedAt, results) : null;
      const stored = fp ? await loadRunReport(this.store.db, run.id, fp) : undefined;
      if (stored) {
        const report = JSON.parse(stored) as Report;
        if (finished) this.done.set(key, report);
        return { report };
      }
      job = this.jobs.get(key) ?? this.start(key, run.id, results, fp);
    }
    if (job.failed) throw job.failed;
    if (wait) return { report: await job.promise };
    // A run in flight whose newer Report is being built: the one built before, at once.
    if (last && !finished) return { report: last.report };
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      job.promise.catch(() => undefined),
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), this.graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (ready) return { report: ready };
    if (job.failed) throw job.failed;
    return { building: { ...job.progress } };
  }

  /** Build in the background; a finished run's Report (`fp`) is kept in memory and in the store. */
  private start(key: string, runId: string, results: number, fp: string | null): Job {
    const progress: Progress = { done: 0, total: 0 };
    const job: Job = { progress, promise: this.build(runId, results, progress) };
    this.jobs.set(key, job);
    this.inFlight.set(runId, job);
    job.promise.then(
      async (report) => {
        this.latest.set(runId, { key, report });
        this.inFlight.delete(runId);
        if (fp) {
          this.done.set(key, report);
          // The store may be read-only to this user: the Report is then rebuilt by the next server.
          await saveRunReport(this.store.db, runId, fp, JSON.stringify(report)).catch(() => undefined);
        }
        this.jobs.delete(key);
      },
      (e: unknown) => {
        this.inFlight.delete(runId);
        job.failed = e; // answered to every visit of this run state; a changed run builds again
      },
    );
    return job;
  }

  private build(runId: string, results: number, progress: Progress): Promise<Report> {
    const onModel = (done: number, total: number) => {
      [progress.done, progress.total] = [done, total];
    };
    return results > this.childAbove ? reportInChild(this.store, runId, progress) : runReport(this.store, runId, onModel);
  }
}

/** The run page's Report: one model at a time, or buildReport for the runs that path does not cover. */
async function runReport(store: StoreHandle, runId: string, onModel?: (done: number, total: number) => void): Promise<Report> {
  try {
    return await buildRunReport(store, runId, onModel);
  } catch (e) {
    if (!(e instanceof NeedsFullBuild)) throw e;
    return buildReport(store, runId);
  }
}

/** `weightbridge ui --report-json RUN` (the child above): the Report as JSON on stdout. */
export async function printRunReport(store: StoreHandle, runId: string): Promise<void> {
  const json = JSON.stringify(await runReport(store, runId, (done, total) => process.stderr.write(`wb-progress ${done} ${total}\n`)));
  await new Promise<void>((resolve, reject) => process.stdout.write(json, (e) => (e ? reject(e) : resolve())));
}
