/**
 * Mirrored requests that were not sent, counted per (run, shadow deployment): `dropped` when the
 * route's queue was full, `skipped` when the route's policy kept the request from that deployment.
 * The counts are committed about once a second and when the gateway stops (traffic.ts), each with
 * its run's row if that was not written yet.
 */
import type { RowWrite } from "../../store/index.js";
import { countsWrite } from "../../store/index.js";
import type { AuditLog } from "../audit-log.js";
import type { RunState, ShadowRunBook } from "./run-book.js";

interface Count {
  runId: string;
  state: RunState;
  deployment: string;
  dropped: number;
  skipped: number;
}

export class SkipCounts {
  private readonly counts = new Map<string, Count>();

  count(runId: string, state: RunState, deployment: string, what: "dropped" | "skipped"): void {
    const k = `${runId}\u0000${deployment}`;
    const c = this.counts.get(k) ?? { runId, state, deployment, dropped: 0, skipped: 0 };
    c[what]++;
    this.counts.set(k, c);
  }

  /** Commits the counts gathered since the last flush (and starts again from zero). */
  async flush(runs: ShadowRunBook, audit: AuditLog): Promise<void> {
    if (this.counts.size === 0) return;
    const items: RowWrite[] = [];
    for (const c of this.counts.values()) {
      runs.announce(c.runId, c.state, items);
      items.push(countsWrite(c.runId, c.deployment, c.dropped, c.skipped));
    }
    this.counts.clear();
    await audit.statements(items);
  }
}
