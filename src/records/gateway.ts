/**
 * The gateway's keys and what it records for each request: its domain types (issue 17: each part owns its types,
 * the store maps them to rows). They sit on this low floor, not in gateway/, because the store, which
 * lies below the gateway, maps them to the `gateway_audit` table and back. Field names follow the
 * columns they fill (the audit API and `gateway audit --json` print them so).
 */

/** An upstream attempt that sent the request and failed before another deployment answered. */
export interface AuditAttempt {
  deployment: string;
  sha256: string;
  error: string;
}

export interface AuditRow {
  /** ISO-8601. */
  time: string;
  key_name: string | null;
  route: string | null;
  deployment: string | null;
  /** Sensitive classes found in the request (counts). */
  classes: Record<string, number>;
  /** Sensitive classes found in the answer (counts), null when nothing was answered. */
  response_classes?: Record<string, number> | null;
  action: string;
  status: number;
  input_tokens: number | null;
  output_tokens: number | null;
  /** Integer pico-USD. */
  cost_pusd: number | null;
  latency_ms: number | null;
  body: string | null;
  /** SHA-256 (hex) of the exact body sent upstream by the attempt that answered; null when nothing was sent. */
  upstream_sha256?: string | null;
  /** Earlier attempts that sent the request to another deployment and failed. */
  attempts?: AuditAttempt[] | null;
}

/** An API key of the gateway (only its SHA-256 is stored) with its limits. */
export interface GatewayKey {
  name: string;
  keyHash: string;
  /** Routes the key may use; null: all. */
  routes: string[] | null;
  rpm: number | null;
  tpm: number | null;
  budgetUsd: number | null;
  createdAt: string;
  revokedAt: string | null;
}
