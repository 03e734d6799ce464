/**
 * The records the product parts produce and the store keeps: evaluate's results and grades, the
 * gateway's audit rows. Types only, on a floor below the store (docs/architecture.md, "Floors").
 */
export type { AuditAttempt, AuditRow } from "./audit.js";
export type { GradeRecord, ResultRecord } from "./result.js";
