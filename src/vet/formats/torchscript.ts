/**
 * TorchScript archives (torch.jit.save): a zip whose <root>/code/ holds TorchScript source that
 * torch.jit.load compiles and runs, beside data.pkl, constants.pkl and code/*.debug_pkl. Their pickles
 * name `__torch__.<module>.<Class>` classes defined by that code; those are allowed only when the
 * archive's own code/ defines them. The code itself is reported for review with the file list: it is
 * code that runs on load, written in TorchScript rather than Python, and no allowlist can vouch for it.
 */
import type { Issue } from "../types.js";
import type { ZipEntry } from "./zip.js";

const CODE_FILE = /^(?:(.*)\/)?code\/(__torch__(?:\/[\w/]*)?)\.py$/;
const MAX_LISTED = 20;

export interface TorchScriptLayout {
  /** Entries holding TorchScript source (…/code/__torch__…/*.py). */
  code: ZipEntry[];
}

/** A TorchScript archive has code/__torch__*.py and a constants.pkl or .debug_pkl beside it. */
export function torchScriptLayout(entries: readonly ZipEntry[]): TorchScriptLayout | undefined {
  const code = entries.filter((e) => CODE_FILE.test(e.name));
  if (code.length === 0) return undefined;
  const marked = entries.some((e) => /(^|\/)constants\.pkl$/.test(e.name) || e.name.endsWith(".debug_pkl"));
  return marked ? { code } : undefined;
}

/** `__torch__.a.b.Class` for each `class Class(` in code/__torch__/a/b.py. */
export function definedClasses(codeFile: string, text: string): string[] {
  const m = CODE_FILE.exec(codeFile);
  if (!m) return [];
  const module = (m[2] as string).split("/").join(".");
  return [...text.matchAll(/^class\s+(\w+)\s*[(:]/gm)].map((c) => `${module}.${c[1] as string}`);
}

export function torchScriptCodeIssue(layout: TorchScriptLayout): Issue {
  const names = layout.code.map((e) => e.name);
  return {
    severity: "medium",
    rule: "torchscript.code",
    message: `TorchScript archive: ${names.length} code file(s) are compiled and run when it is loaded (torch.jit.load, and torch.load, which hands TorchScript archives to it); review them before loading`,
    evidence: names.slice(0, MAX_LISTED).join(", ") + (names.length > MAX_LISTED ? ` and ${names.length - MAX_LISTED} more` : ""),
  };
}
