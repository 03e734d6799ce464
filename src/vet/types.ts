/** What `weightbridge scan` produces: files with hashes, findings with severities, license, origin, verdict. */
export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function atLeast(s: Severity, floor: Severity): boolean {
  return severityRank(s) >= severityRank(floor);
}

export interface Finding {
  severity: Severity;
  /** Dotted rule id, e.g. pickle.dangerous-call, safetensors.trailing-bytes. */
  rule: string;
  /** Path relative to the scan target ("" for the target itself when it is a file). */
  file: string;
  message: string;
  evidence?: string;
}

/** A finding before it is tied to a file: what a format parser reports. */
export type Issue = Omit<Finding, "file">;

export type FileFormat =
  | "pickle"
  | "compressed-pickle"
  | "pytorch-zip"
  | "torchscript"
  | "zip"
  | "numpy"
  | "npz"
  | "safetensors"
  | "gguf"
  | "keras"
  | "h5"
  | "onnx"
  | "chat-template"
  | "json"
  | "python"
  | "executable"
  | "text"
  | "other";

export interface ScannedFile {
  path: string;
  size: number;
  sha256: string;
  format: FileFormat;
}

/** Facts a parser learnt about the model (GGUF metadata, model card front matter, …). */
export interface ModelFacts {
  license?: string | undefined;
  ggufLicense?: string | undefined;
  baseModel?: string[] | undefined;
  architecture?: string | undefined;
  name?: string | undefined;
}
