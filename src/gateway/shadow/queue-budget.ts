/**
 * The bound on mirrored work waiting per route (traffic.ts): how many jobs of a route have not
 * started yet and the bytes they hold, against the route's `shadow.maxQueue` and `maxQueueBytes`. A
 * job takes its share when it is planned and gives it back when it leaves its lane's queue (or is
 * dropped at close). Pure bookkeeping, its own unit so the bound can be tested alone.
 */

export interface QueueLimits {
  maxQueue: number;
  maxQueueBytes: number;
}

export class QueueBudget {
  private readonly waiting = new Map<string, { jobs: number; bytes: number }>();

  /** Takes room for one job of `bytes` on the route, or says false when the route's bound is reached. */
  take(route: string, limits: QueueLimits, bytes: number): boolean {
    const w = this.of(route);
    if (w.jobs >= limits.maxQueue || w.bytes + bytes > limits.maxQueueBytes) return false;
    w.jobs++;
    w.bytes += bytes;
    return true;
  }

  /** Gives back one job's room (never below zero). */
  release(route: string, bytes: number): void {
    const w = this.of(route);
    w.jobs = Math.max(0, w.jobs - 1);
    w.bytes = Math.max(0, w.bytes - bytes);
  }

  /** Jobs and bytes the route holds now. */
  held(route: string): { jobs: number; bytes: number } {
    const w = this.of(route);
    return { jobs: w.jobs, bytes: w.bytes };
  }

  private of(route: string): { jobs: number; bytes: number } {
    let w = this.waiting.get(route);
    if (!w) {
      w = { jobs: 0, bytes: 0 };
      this.waiting.set(route, w);
    }
    return w;
  }
}
