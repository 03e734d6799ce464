/**
 * The shadow runs a gateway has open (traffic.ts): one per route and UTC day, or per `--shadow-run`
 * window. A run's next case index is read from the store once, its row is written into the first
 * commit that needs it (`announce`), and a route's earlier run is finished when its next one opens
 * (a new day) or when the gateway stops. Its own unit so that the day rollover and the retry of a
 * failed read can be followed without the rest of the traffic hook.
 */
import type { RowWrite, StoreHandle } from "../../store/index.js";
import { finishRun, nextShadowCase, shadowRunWrite } from "../../store/index.js";
import type { Deployment, Route } from "../config.js";
import { shadowPlan, shadowRunId } from "./rows.js";

export interface RunState {
  next: number;
  announced: boolean;
  window: string;
  route: Route;
}

export class ShadowRunBook {
  private readonly runs = new Map<string, Promise<RunState>>();
  /** The route (its model name) of each open run. */
  private readonly runRoute = new Map<string, string>();

  constructor(
    private readonly store: StoreHandle,
    private readonly deployments: readonly Deployment[],
    private readonly configPath: string,
    /** One run per route for this window name instead of one per UTC day. */
    private readonly window: string | undefined,
  ) {}

  /** The route's run for `now`, opened (and the route's earlier run finished) when it is new. */
  of(route: Route, now: Date): Promise<{ id: string; state: RunState }> {
    const id = shadowRunId(route.model, now, this.window);
    const r = this.runs.get(id) ?? this.open(id, route, now);
    return r.then((state) => ({ id, state }));
  }

  /** The run's row goes into the first commit that needs it. */
  announce(id: string, s: RunState, into: RowWrite[]): void {
    if (s.announced) return;
    s.announced = true;
    into.push(
      shadowRunWrite({
        id,
        configPath: this.configPath,
        plan: shadowPlan(s.route, this.deployments, this.configPath, s.window),
        createdAt: new Date().toISOString(),
      }),
    );
  }

  /** Every announced run is marked completed (the gateway stops). */
  async finishAll(): Promise<void> {
    for (const [id, r] of this.runs) if ((await r).announced) await finishRun(this.store.db, id, "completed").catch(() => {});
  }

  private open(id: string, route: Route, now: Date): Promise<RunState> {
    this.finishEarlier(route.model);
    const window = this.window ?? now.toISOString().slice(0, 10);
    this.runRoute.set(id, route.model);
    const r = nextShadowCase(this.store.db, id).then((next) => ({ next, announced: false, window, route }));
    this.runs.set(id, r);
    // A failed read is not kept: the next mirrored request asks the store again.
    r.catch(() => {
      if (this.runs.get(id) === r) this.forget(id);
    });
    return r;
  }

  /** A new day: the route's earlier run is complete. */
  private finishEarlier(route: string): void {
    for (const [oldId, old] of this.runs)
      if (this.runRoute.get(oldId) === route) {
        this.forget(oldId);
        void old.then((s) => (s.announced ? finishRun(this.store.db, oldId, "completed") : undefined)).catch(() => {});
      }
  }

  private forget(id: string): void {
    this.runs.delete(id);
    this.runRoute.delete(id);
  }
}
