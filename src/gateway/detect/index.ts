export { type CustomClass, customDetector, detectCreditCard, detectEmail, detectIban, detectIp, detectSecret, detectSsn, phoneDetector } from "./detectors.js";
export { buildDetectors, type DetectOptions, defaultDetectors, detect, newRedactState, type Redaction, type RedactState, redact, restore } from "./redact.js";
export { BUILTIN_CLASSES, type BuiltinClass, type Detector, type Entity } from "./types.js";
export { cardNetwork, ibanValid, ipv4Valid, ipv6Valid, luhnValid, ssnValid } from "./validators.js";
