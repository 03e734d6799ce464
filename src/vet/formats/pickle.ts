/**
 * Pickle scanning for protocols 0–5: the symbolic machine (pickle/machine.ts, over the opcode table in
 * pickle/opcodes.ts) runs each pickle of a stream, and the rules (pickle/rules.ts) turn what it saw
 * into findings. A parse error ends that pickle with a finding, keeping what was seen before it
 * (payloads that break the stream after running); bytes after STOP are tried as further pickles, as
 * torch.load and repeated pickle.load calls would.
 */
import type { ByteSource } from "../source.js";
import type { Issue } from "../types.js";
import { DEFAULT_PICKLE_LIMITS, type GlobalRef, Machine, PickleError, type PickleLimits } from "./pickle/machine.js";
import { dynamicIssues, externalIssues, globalIssues } from "./pickle/rules.js";

export { DEFAULT_PICKLE_LIMITS, type GlobalRef, type PickleLimits } from "./pickle/machine.js";
export { joblibArray } from "./pickle/rules.js";

/** A protocol 2–5 pickle starts with PROTO and its version (protocols 0–1 have no header). */
export function isPickleHead(head: Buffer | undefined): boolean {
  return head !== undefined && head.length >= 2 && head[0] === 0x80 && (head[1] as number) <= 5;
}

export interface PickleScan {
  issues: Issue[];
  globals: GlobalRef[];
  pickles: number;
  ops: number;
  /** True when the first pickle parsed to STOP without error. */
  wellFormed: boolean;
}

export interface PickleOptions {
  extraAllowed?: ReadonlySet<string>;
  limits?: Partial<PickleLimits>;
  /** Offset of the first pickle in the source. */
  start?: number;
}

/** The finding for a pickle that broke off: malformed when it is the first, trailing data after that. */
function breakIssue(e: PickleError, first: boolean, began: number, seen: number): Issue | undefined {
  if (first)
    return {
      severity: "medium",
      rule: "pickle.malformed",
      message: `pickle stream is malformed: ${e.message}`,
      evidence: `${e.message} at byte ${e.at}${seen ? `; ${seen} import(s) seen before it are reported` : ""}`,
    };
  if (e.at > began)
    return { severity: "low", rule: "pickle.trailing-data", message: "data after the pickle's STOP is not a further pickle", evidence: `from byte ${began}` };
  return undefined;
}

export function scanPickle(src: ByteSource, opts: PickleOptions = {}): PickleScan {
  const limits = { ...DEFAULT_PICKLE_LIMITS, ...opts.limits };
  const m = new Machine(src, limits, opts.extraAllowed ?? new Set<string>(), opts.start ?? 0);
  const issues: Issue[] = [];
  let pickles = 0;
  let wellFormed = false;
  if (m.pos >= src.size)
    issues.push({ severity: "medium", rule: "pickle.malformed", message: "empty pickle: no opcodes at all", evidence: `${src.size} bytes` });
  while (m.pos < src.size && pickles < limits.maxPickles) {
    const first = pickles === 0;
    const began = m.pos;
    pickles++;
    try {
      m.run();
      if (first) wellFormed = true;
    } catch (e) {
      if (!(e instanceof PickleError)) throw e;
      const issue = breakIssue(e, first, began, m.globals.size);
      if (issue) issues.push(issue);
      pickles -= first ? 0 : 1;
      break;
    }
  }
  if (m.pos < src.size && pickles >= limits.maxPickles)
    issues.push({ severity: "medium", rule: "pickle.too-many", message: `more than ${limits.maxPickles} pickles in one stream; the rest was not scanned` });
  const globals = [...m.globals.values()];
  issues.push(...globalIssues(globals), ...dynamicIssues(m.dynamic), ...externalIssues(m.external));
  return { issues, globals, pickles, ops: m.ops, wellFormed };
}
