/**
 * The records the product parts produce and the store keeps: evaluate's results and grades, the
 * gateway's keys and audit rows, the scoreboard's snapshots, economics' stored prices. Types only, on
 * a floor below the store (docs/architecture.md, "Floors"), so that the store can map them to rows.
 */
export type { AuditAttempt, AuditRow, GatewayKey } from "./gateway.js";
export type { StoredPrice } from "./price.js";
export type { GradeRecord, ResultRecord, TurnRecord } from "./result.js";
export type { Snapshot } from "./scoreboard.js";
