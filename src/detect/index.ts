/** Sensitive-data detection (PII and secrets), the public face: gateway, `weightbridge redact`, red-team graders and evaluate import only this. */

export { detectAcross } from "./across.js";
export { canaryLeaked, factsPresent, insecurePatterns, isRefusal, piiLeaked, secretLeaked } from "./answers.js";
export { type EncodedRun, findEncodedRuns } from "./decode.js";
export {
  type CustomClass,
  customDetector,
  detectCreditCard,
  detectEmail,
  detectIban,
  detectIp,
  detectSsn,
} from "./detectors.js";
export { type Normalised, normalise, originalSpan } from "./normalise.js";
export { mayBeNationalNumber, type NationalShape, nationalShape, phoneDetector } from "./phone.js";
export { createDetectPool, type DetectPool, type DetectPoolOptions } from "./pool.js";
export {
  buildDetectors,
  type DetectOptions,
  defaultDetectors,
  detect,
  detectUncached,
  newRedactState,
  type Redaction,
  type RedactState,
  redact,
  restore,
} from "./redact.js";
export { detectSecret } from "./secrets.js";
export { BUILTIN_CLASSES, type BuiltinClass, type Detector, type Entity, MAX_VALUES_PER_REQUEST, TooManyValues } from "./types.js";
export { cardNetwork, ibanValid, ipv4Valid, ipv6Valid, luhnValid, ssnValid } from "./validators.js";
