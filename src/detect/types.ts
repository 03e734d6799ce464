/** Sensitive-data detection: shared by the gateway, `weightbridge redact` and the red-team PII checks. */
export const BUILTIN_CLASSES = ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "SECRET"] as const;
export type BuiltinClass = (typeof BUILTIN_CLASSES)[number];

export interface Entity {
  /** A built-in class or a custom class name from config. */
  type: string;
  /** Offsets index the JavaScript string (UTF-16 code units), end exclusive. */
  start: number;
  end: number;
  /** Which rule found it (e.g. "luhn", "mod97", "openai-key"). */
  rule: string;
}

/** A detector: a pure function from text to entities. Linear in the length of the text. */
export type Detector = (text: string) => Entity[];

/** Most sensitive values one request may carry: past it, handing them between threads and redacting them would stall a server. */
export const MAX_VALUES_PER_REQUEST = 10_000;

/** A request carries more sensitive values than MAX_VALUES_PER_REQUEST (refused, not scanned further). */
export class TooManyValues extends Error {
  constructor(readonly found: number) {
    super(`the request holds more than ${MAX_VALUES_PER_REQUEST.toLocaleString("en-US")} sensitive values (${found.toLocaleString("en-US")} found)`);
  }
}
