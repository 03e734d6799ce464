/**
 * The gateway's audit trail as one unit: every row is counted in the metrics and committed to the
 * store before the caller answers (audit-writer.ts commits off the event loop). Rows are built from
 * a request's context, so each step of the pipeline states only what it adds.
 */
import { hash } from "node:crypto";
import type { AuditRow } from "../records/index.js";
import type { RowWrite, StoreHandle } from "../store/index.js";
import { auditWriter } from "../store/index.js";
import { isoNow } from "../util/iso-now.js";
import type { GatewayMetrics } from "./metrics.js";

export type AuditFields = Partial<Omit<AuditRow, "action" | "status">> & Pick<AuditRow, "action" | "status">;

export interface AuditLog {
  /** Commit a row; resolves once it is durable. */
  record(row: AuditRow): Promise<void>;
  /** Commit other rows (shadow pairs, captures) in the same durable commits; resolves once durable. */
  statements(writes: readonly RowWrite[]): Promise<void>;
  close(): Promise<void>;
}

export function createAuditLog(store: StoreHandle, metrics: GatewayMetrics): AuditLog {
  const writer = auditWriter(store);
  return {
    record(row) {
      metrics.observe(row);
      return writer.write(row);
    },
    statements: (writes) => writer.writeRows(writes),
    close: () => writer.close(),
  };
}

/** A row with every field the step did not state empty. */
export function auditRow(f: AuditFields): AuditRow {
  return {
    time: isoNow(),
    key_name: null,
    route: null,
    deployment: null,
    classes: {},
    input_tokens: null,
    output_tokens: null,
    cost_pusd: null,
    latency_ms: null,
    body: null,
    ...f,
  };
}

/** One-shot hashing (crypto.hash, Node ≥ 20.12): half the cost of createHash().update().digest() on a request-sized text. */
export const sha256Hex = (text: string) => hash("sha256", text, "hex");
