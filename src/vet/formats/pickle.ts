/**
 * Pickle disassembler for protocols 0–5 with a symbolic stack and memo: it sees both what is
 * imported (GLOBAL, STACK_GLOBAL — also with names fetched from the memo —, INST, EXT*) and what is
 * called with it (REDUCE, OBJ, NEWOBJ, NEWOBJ_EX, INST, BUILD). Nothing is ever deserialised.
 * Bounds: every length is checked against the bytes left, strings longer than 4 KiB are skipped
 * without being read, stack, memo and opcode counts are capped. A parse error ends that pickle with a
 * finding, keeping what was seen before it (payloads that break the stream after running); bytes
 * after STOP are tried as further pickles, as torch.load and repeated pickle.load calls would.
 */
import { classifyGlobal, FORWARDING, type GlobalClass, lowReason, normaliseModule } from "../globals.js";
import type { ByteSource } from "../source.js";
import type { Issue } from "../types.js";

/** A protocol 2–5 pickle starts with PROTO and its version (protocols 0–1 have no header). */
export function isPickleHead(head: Buffer | undefined): boolean {
  return head !== undefined && head.length >= 2 && head[0] === 0x80 && (head[1] as number) <= 5;
}

export interface PickleLimits {
  maxOps: number;
  maxStack: number;
  maxMemo: number;
  maxPickles: number;
  maxLine: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = { maxOps: 50_000_000, maxStack: 2_000_000, maxMemo: 2_000_000, maxPickles: 64, maxLine: 65_536 };

export interface GlobalRef {
  module: string;
  name: string;
  cls: GlobalClass;
  importedAt: number;
  importedBy: string;
  calls: { op: string; at: number; via?: string }[];
}

export interface PickleScan {
  issues: Issue[];
  globals: GlobalRef[];
  pickles: number;
  ops: number;
  /** True when the first pickle parsed to STOP without error. */
  wellFormed: boolean;
}

type V =
  | { k: "str"; s: string }
  | { k: "int"; n: number }
  | { k: "global"; g: GlobalRef }
  | { k: "obj"; of: GlobalRef | undefined; args?: V }
  | { k: "tuple"; items: V[] }
  | { k: "dict"; entries: Map<string, V> }
  | { k: "val" };

const VAL: V = { k: "val" };
const MAX_KEPT_STRING = 4096;
const MAX_TUPLE_KEPT = 64;
const MAX_DICT_KEPT = 64;
/** Object arrays inside joblib files hold nested pickles; they nest at most this deep. */
const MAX_NESTED = 8;

class PickleError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

export interface PickleOptions {
  extraAllowed?: ReadonlySet<string>;
  limits?: Partial<PickleLimits>;
  /** Offset of the first pickle in the source. */
  start?: number;
}

export function scanPickle(src: ByteSource, opts: PickleOptions = {}): PickleScan {
  const limits = { ...DEFAULT_PICKLE_LIMITS, ...opts.limits };
  const extra = opts.extraAllowed ?? new Set<string>();
  const globals = new Map<string, GlobalRef>();
  const issues: Issue[] = [];
  const dynamic: { op: string; at: number; what: string }[] = [];
  let pos = opts.start ?? 0;
  let ops = 0;
  let pickles = 0;
  let wellFormed = false;

  const u8 = (at: number) => {
    const b = src.read(at, 1);
    if (b.length < 1) throw new PickleError("unexpected end of data", at);
    return b[0] as number;
  };
  const need = (at: number, n: number) => {
    if (n < 0 || at + n > src.size) throw new PickleError(`length ${n} runs past the end of the data (${src.size - at} bytes left)`, at);
  };
  const uint = (at: number, n: 1 | 2 | 4 | 8) => {
    need(at, n);
    const b = src.read(at, n);
    if (n === 1) return b.readUInt8(0);
    if (n === 2) return b.readUInt16LE(0);
    if (n === 4) return b.readUInt32LE(0);
    const big = b.readBigUInt64LE(0);
    return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
  };
  const line = (at: number): { text: string; next: number } => {
    const chunk = src.read(at, Math.min(limits.maxLine, src.size - at));
    const nl = chunk.indexOf(10);
    if (nl < 0) throw new PickleError(`no newline within ${limits.maxLine} bytes`, at);
    return { text: chunk.subarray(0, nl).toString("latin1"), next: at + nl + 1 };
  };
  const strAt = (at: number, len: number, enc: "utf8" | "latin1"): V => {
    need(at, len);
    return len <= MAX_KEPT_STRING ? { k: "str", s: src.read(at, len).toString(enc) } : VAL;
  };
  const ref = (module: string, name: string, at: number, by: string): GlobalRef => {
    const key = `${module}.${name}`;
    let g = globals.get(key);
    if (!g) {
      g = { module, name, cls: classifyGlobal(module, name, extra), importedAt: at, importedBy: by, calls: [] };
      globals.set(key, g);
    }
    return g;
  };
  const called = (fn: V | undefined, op: string, at: number, args?: V): GlobalRef | undefined => {
    if (fn?.k === "global") {
      fn.g.calls.push({ op, at });
      if (FORWARDING.has(`${fn.g.module}.${fn.g.name}`) && args?.k === "tuple")
        for (const a of args.items) if (a.k === "global") a.g.calls.push({ op, at, via: `${fn.g.module}.${fn.g.name}` });
      return fn.g;
    }
    const what =
      fn?.k === "obj" ? (fn.of ? `the result of ${fn.of.module}.${fn.of.name}(…)` : "the result of a call") : fn?.k === "str" ? "a string" : "a computed value";
    dynamic.push({ op, at, what });
    return undefined;
  };

  /** joblib writes an array's bytes right after its NumpyArrayWrapper's BUILD; skip them, or scan the nested pickle of an object array. */
  const skipJoblibArray = (state: V, at: number, nested: number): void => {
    const a = joblibArray(state);
    if (typeof a === "string") throw new PickleError(`joblib array: ${a}`, at);
    if (a.object) {
      if (nested >= MAX_NESTED) throw new PickleError(`object arrays nested more than ${MAX_NESTED} deep`, at);
      parseOne(nested + 1);
      return;
    }
    if (a.aligned) pos += 1 + uint(pos, 1);
    if (a.bytes > src.size - pos) throw new PickleError(`joblib array declares ${a.bytes} bytes of data but ${Math.max(0, src.size - pos)} remain`, at);
    pos += a.bytes;
  };

  const parseOne = (nested = 0): void => {
    let stack: V[] = [];
    const marks: V[][] = [];
    const memo = new Map<number, V>();
    const pop = (at: number): V => {
      const v = stack.pop();
      if (v === undefined) throw new PickleError("stack underflow", at);
      return v;
    };
    const popMark = (at: number): V[] => {
      const items = stack;
      const prev = marks.pop();
      if (!prev) throw new PickleError("no MARK on the stack", at);
      stack = prev;
      return items;
    };
    const push = (v: V, at: number) => {
      if (stack.length >= limits.maxStack) throw new PickleError(`stack deeper than ${limits.maxStack}`, at);
      stack.push(v);
    };
    const tuple = (items: V[]): V => ({ k: "tuple", items: items.slice(0, MAX_TUPLE_KEPT) });
    const setItems = (target: V, items: V[]) => {
      if (target.k !== "dict") return;
      for (let i = 0; i + 1 < items.length && target.entries.size < MAX_DICT_KEPT; i += 2) {
        const key = items[i] as V;
        if (key.k === "str") target.entries.set(key.s, items[i + 1] as V);
      }
    };
    const memoPut = (idx: number, at: number) => {
      if (memo.size >= limits.maxMemo && !memo.has(idx)) throw new PickleError(`memo larger than ${limits.maxMemo}`, at);
      const top = stack[stack.length - 1];
      if (top === undefined) throw new PickleError("memo put with an empty stack", at);
      memo.set(idx, top);
    };
    const memoGet = (idx: number, at: number) => {
      const v = memo.get(idx);
      if (v === undefined) throw new PickleError(`memo key ${idx} was never stored`, at);
      push(v, at);
    };

    for (;;) {
      if (++ops > limits.maxOps) throw new PickleError(`more than ${limits.maxOps} opcodes`, pos);
      const at = pos;
      const op = u8(pos);
      pos++;
      switch (op) {
        case 0x80: {
          const proto = uint(pos, 1);
          pos += 1;
          if (proto > 5) throw new PickleError(`unsupported protocol ${proto}`, at);
          break;
        }
        case 0x95: // FRAME
          uint(pos, 8);
          pos += 8;
          break;
        case 0x2e: // STOP
          return;
        case 0x28: // MARK
          if (marks.length >= limits.maxStack) throw new PickleError("too many MARKs", at);
          marks.push(stack);
          stack = [];
          break;
        case 0x30: // POP
          if (stack.length === 0) popMark(at);
          else stack.pop();
          break;
        case 0x31: // POP_MARK
          popMark(at);
          break;
        case 0x32: {
          // DUP
          const top = stack[stack.length - 1];
          if (top === undefined) throw new PickleError("DUP on an empty stack", at);
          push(top, at);
          break;
        }
        // Numbers and constants.
        case 0x46: // FLOAT
        case 0x49: // INT
        case 0x4c: // LONG
          pos = line(pos).next;
          push(VAL, at);
          break;
        case 0x4a: // BININT
          need(pos, 4);
          push({ k: "int", n: src.read(pos, 4).readInt32LE(0) }, at);
          pos += 4;
          break;
        case 0x4b: // BININT1
          push({ k: "int", n: uint(pos, 1) }, at);
          pos += 1;
          break;
        case 0x4d: // BININT2
          push({ k: "int", n: uint(pos, 2) }, at);
          pos += 2;
          break;
        case 0x47: // BINFLOAT
          uint(pos, 8);
          pos += 8;
          push(VAL, at);
          break;
        case 0x8a: {
          // LONG1
          const n = uint(pos, 1);
          need(pos + 1, n);
          pos += 1 + n;
          push(VAL, at);
          break;
        }
        case 0x8b: {
          // LONG4
          const n = uint(pos, 4);
          need(pos + 4, n);
          pos += 4 + n;
          push(VAL, at);
          break;
        }
        case 0x4e: // NONE
        case 0x88: // NEWTRUE
        case 0x89: // NEWFALSE
          push(VAL, at);
          break;
        // Strings and bytes.
        case 0x53: {
          // STRING: a quoted Python literal on one line
          const l = line(pos);
          pos = l.next;
          const m = /^(['"])(.*)\1$/s.exec(l.text.trim());
          push(m && (m[2] as string).length <= MAX_KEPT_STRING ? { k: "str", s: m[2] as string } : VAL, at);
          break;
        }
        case 0x56: {
          // UNICODE: raw-unicode-escape on one line
          const l = line(pos);
          pos = l.next;
          push(l.text.length <= MAX_KEPT_STRING ? { k: "str", s: l.text } : VAL, at);
          break;
        }
        case 0x54: // BINSTRING
        case 0x42: // BINBYTES
        case 0x58: {
          // BINUNICODE
          const n = uint(pos, 4);
          push(strAt(pos + 4, n, op === 0x58 ? "utf8" : "latin1"), at);
          pos += 4 + n;
          break;
        }
        case 0x55: // SHORT_BINSTRING
        case 0x43: // SHORT_BINBYTES
        case 0x8c: {
          // SHORT_BINUNICODE
          const n = uint(pos, 1);
          push(strAt(pos + 1, n, op === 0x8c ? "utf8" : "latin1"), at);
          pos += 1 + n;
          break;
        }
        case 0x8d: // BINUNICODE8
        case 0x8e: // BINBYTES8
        case 0x96: {
          // BYTEARRAY8
          const n = uint(pos, 8);
          push(strAt(pos + 8, n, op === 0x8d ? "utf8" : "latin1"), at);
          pos += 8 + n;
          break;
        }
        case 0x97: // NEXT_BUFFER
          push(VAL, at);
          break;
        case 0x98: // READONLY_BUFFER
          if (stack.length === 0) throw new PickleError("READONLY_BUFFER on an empty stack", at);
          break;
        // Containers.
        case 0x29: // EMPTY_TUPLE
          push(tuple([]), at);
          break;
        case 0x7d: // EMPTY_DICT
          push({ k: "dict", entries: new Map() }, at);
          break;
        case 0x5d: // EMPTY_LIST
        case 0x8f: // EMPTY_SET
          push(VAL, at);
          break;
        case 0x74: // TUPLE
          push(tuple(popMark(at)), at);
          break;
        case 0x85: // TUPLE1
          push(tuple([pop(at)]), at);
          break;
        case 0x86: {
          // TUPLE2
          const b = pop(at);
          push(tuple([pop(at), b]), at);
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = pop(at);
          const b = pop(at);
          push(tuple([pop(at), b, c]), at);
          break;
        }
        case 0x64: {
          // DICT
          const d: V = { k: "dict", entries: new Map() };
          setItems(d, popMark(at));
          push(d, at);
          break;
        }
        case 0x6c: // LIST
        case 0x91: // FROZENSET
          popMark(at);
          push(VAL, at);
          break;
        case 0x61: // APPEND
          pop(at);
          if (stack.length === 0) throw new PickleError("APPEND without a list", at);
          break;
        case 0x65: // APPENDS
        case 0x75: // SETITEMS
        case 0x90: {
          // ADDITEMS
          const items = popMark(at);
          const target = stack[stack.length - 1];
          if (target === undefined) throw new PickleError("no container under the MARK", at);
          if (op === 0x75) setItems(target, items);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = pop(at);
          const key = pop(at);
          const target = stack[stack.length - 1];
          if (target === undefined) throw new PickleError("SETITEM without a dict", at);
          setItems(target, [key, v]);
          break;
        }
        // Memo.
        case 0x67: {
          // GET
          const l = line(pos);
          pos = l.next;
          memoGet(Number.parseInt(l.text, 10), at);
          break;
        }
        case 0x68: // BINGET
          memoGet(uint(pos, 1), at);
          pos += 1;
          break;
        case 0x6a: // LONG_BINGET
          memoGet(uint(pos, 4), at);
          pos += 4;
          break;
        case 0x70: {
          // PUT
          const l = line(pos);
          pos = l.next;
          memoPut(Number.parseInt(l.text, 10), at);
          break;
        }
        case 0x71: // BINPUT
          memoPut(uint(pos, 1), at);
          pos += 1;
          break;
        case 0x72: // LONG_BINPUT
          memoPut(uint(pos, 4), at);
          pos += 4;
          break;
        case 0x94: // MEMOIZE
          memoPut(memo.size, at);
          break;
        // Imports.
        case 0x63: {
          // GLOBAL "module\nname\n"
          const m = line(pos);
          const n = line(m.next);
          pos = n.next;
          push({ k: "global", g: ref(m.text, n.text, at, "GLOBAL") }, at);
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = pop(at);
          const module = pop(at);
          if (module.k !== "str" || name.k !== "str") {
            dynamic.push({ op: "STACK_GLOBAL", at, what: "an import whose module or name is computed" });
            push({ k: "global", g: ref("<computed>", `<computed@${at}>`, at, "STACK_GLOBAL") }, at);
          } else push({ k: "global", g: ref(module.s, name.s, at, "STACK_GLOBAL") }, at);
          break;
        }
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: {
          // EXT4
          const n = op === 0x82 ? 1 : op === 0x83 ? 2 : 4;
          const code = uint(pos, n);
          pos += n;
          push({ k: "global", g: ref("<copyreg-extension>", String(code), at, "EXT") }, at);
          break;
        }
        case 0x69: {
          // INST "module\nname\n": import and call with the items above MARK
          const m = line(pos);
          const n = line(m.next);
          pos = n.next;
          const args = popMark(at);
          const g = ref(m.text, n.text, at, "INST");
          push({ k: "obj", of: called({ k: "global", g }, "INST", at, tuple(args)) }, at);
          break;
        }
        // Calls.
        case 0x52: {
          // REDUCE
          const args = pop(at);
          const fn = pop(at);
          push({ k: "obj", of: called(fn, "REDUCE", at, args), args }, at);
          break;
        }
        case 0x6f: {
          // OBJ
          const items = popMark(at);
          if (items.length === 0) throw new PickleError("OBJ without a class", at);
          push({ k: "obj", of: called(items[0], "OBJ", at, tuple(items.slice(1))) }, at);
          break;
        }
        case 0x81: {
          // NEWOBJ
          const args = pop(at);
          const cls = pop(at);
          push({ k: "obj", of: called(cls, "NEWOBJ", at, args) }, at);
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          pop(at);
          const args = pop(at);
          const cls = pop(at);
          push({ k: "obj", of: called(cls, "NEWOBJ_EX", at, args) }, at);
          break;
        }
        case 0x62: {
          // BUILD: obj.__setstate__(state), or attributes set on obj
          const state = pop(at);
          const obj = stack[stack.length - 1];
          if (obj === undefined) throw new PickleError("BUILD without an object", at);
          if (obj.k === "global") obj.g.calls.push({ op: "BUILD", at });
          if (obj.k === "obj" && obj.of && isJoblibWrapper(obj.of)) skipJoblibArray(state, at, nested);
          break;
        }
        case 0x50: // PERSID
          pos = line(pos).next;
          push(VAL, at);
          break;
        case 0x51: // BINPERSID
          pop(at);
          push(VAL, at);
          break;
        default:
          throw new PickleError(`invalid opcode 0x${op.toString(16).padStart(2, "0")}`, at);
      }
    }
  };

  if (pos >= src.size) issues.push({ severity: "medium", rule: "pickle.malformed", message: "empty pickle: no opcodes at all", evidence: `${src.size} bytes` });
  while (pos < src.size && pickles < limits.maxPickles) {
    const first = pickles === 0;
    const began = pos;
    pickles++;
    try {
      parseOne();
      if (first) wellFormed = true;
    } catch (e) {
      if (!(e instanceof PickleError)) throw e;
      const seen = globals.size;
      if (first)
        issues.push({
          severity: "medium",
          rule: "pickle.malformed",
          message: `pickle stream is malformed: ${e.message}`,
          evidence: `${e.message} at byte ${e.at}${seen ? `; ${seen} import(s) seen before it are reported` : ""}`,
        });
      else if (e.at > began)
        issues.push({
          severity: "low",
          rule: "pickle.trailing-data",
          message: "data after the pickle's STOP is not a further pickle",
          evidence: `from byte ${began}`,
        });
      pickles -= first ? 0 : 1;
      break;
    }
  }
  if (pos < src.size && pickles >= limits.maxPickles)
    issues.push({ severity: "medium", rule: "pickle.too-many", message: `more than ${limits.maxPickles} pickles in one stream; the rest was not scanned` });

  for (const g of globals.values()) issues.push(...judge(g));
  issues.push(...lowNotes([...globals.values()].filter((g) => g.cls === "low")));
  for (const d of dynamic)
    issues.push({
      severity: "high",
      rule: "pickle.dynamic-call",
      message: `${d.what} is used via ${d.op}: the callable cannot be known without running the pickle`,
      evidence: `${d.op} at byte ${d.at}`,
    });
  return { issues, globals: [...globals.values()], pickles, ops, wellFormed };
}

function judge(g: GlobalRef): Issue[] {
  // Report the canonical name (posix.system is os.system) and keep what the pickle wrote.
  const written = `${g.module}.${g.name}`;
  const canonical = `${normaliseModule(g.module)}.${g.name}`;
  const name = canonical === written ? written : `${canonical} (written as ${written})`;
  const call = g.calls[0];
  const how = call
    ? `${canonical} called via ${call.op}${call.via ? ` (through ${call.via})` : ""} at byte ${call.at}`
    : `${canonical} imported via ${g.importedBy} at byte ${g.importedAt}`;
  const more = g.calls.length > 1 ? ` (${g.calls.length} calls)` : "";
  if (g.cls === "dangerous")
    return [
      {
        severity: "critical",
        rule: call ? "pickle.dangerous-call" : "pickle.dangerous-import",
        message: `${name} can run code, spawn processes, touch files or the network, or deserialise further data`,
        evidence: how + more,
      },
    ];
  if (g.cls === "allowed" || g.cls === "low") return [];
  if (call)
    return [
      { severity: "high", rule: "pickle.unsafe-call", message: `${name} is not an allowlisted reconstructor and is called on load`, evidence: how + more },
    ];
  return [{ severity: "medium", rule: "pickle.unknown-import", message: `${name} is imported (not called); it is not on the allowlist`, evidence: how }];
}

function isJoblibWrapper(g: GlobalRef): boolean {
  return g.module === "joblib.numpy_pickle" && g.name === "NumpyArrayWrapper";
}

/**
 * The size of the array a NumpyArrayWrapper's state describes: shape × itemsize of its numpy.dtype
 * (built by REDUCE from a type string such as 'f8', '<U5', 'V24', 'O8'). A reason string when the
 * state does not say (the array is then not skipped past: the pickle is reported malformed).
 */
export function joblibArray(state: V): { bytes: number; object: boolean; aligned: boolean } | string {
  if (state.k !== "dict") return "state is not a dict";
  const shape = state.entries.get("shape");
  const dtype = state.entries.get("dtype");
  if (shape?.k !== "tuple" || shape.items.some((d) => d.k !== "int" || d.n < 0)) return "shape is not a tuple of sizes the scanner kept";
  if (dtype?.k !== "obj" || dtype.of?.module !== "numpy" || dtype.of.name !== "dtype" || dtype.args?.k !== "tuple") return "dtype is not numpy.dtype(...)";
  const type = dtype.args.items[0];
  const m = type?.k === "str" ? /^[<>|=]?([a-zA-Z?])(\d*)$/.exec(type.s) : null;
  if (!m) return "dtype string not understood";
  const kind = m[1] as string;
  if (kind === "O") return { bytes: 0, object: true, aligned: false };
  const n = m[2] ? Number(m[2]) : kind === "?" || kind === "b" ? 1 : Number.NaN;
  const itemsize = kind === "U" ? n * 4 : n;
  if (!Number.isFinite(itemsize)) return `dtype ${type?.k === "str" ? type.s : "?"} has no size`;
  let bytes = itemsize;
  for (const d of shape.items) bytes *= (d as { n: number }).n;
  return { bytes, object: false, aligned: state.entries.get("numpy_array_alignment_bytes")?.k === "int" };
}

/** One low note per reason (pandas, statsmodels, …), naming the classes, instead of one per class. */
function lowNotes(low: GlobalRef[]): Issue[] {
  const byReason = new Map<string, string[]>();
  for (const g of low) {
    const full = `${normaliseModule(g.module)}.${g.name}`;
    const reason = lowReason(full) ?? "a data-library class";
    byReason.set(reason, [...(byReason.get(reason) ?? []), full]);
  }
  return [...byReason].map(([reason, names]) => ({
    severity: "low" as const,
    rule: "pickle.data-class",
    message: `${reason}: no I/O on load, but its library's code runs when the pickle is loaded`,
    evidence: names.slice(0, 8).join(", ") + (names.length > 8 ? ` and ${names.length - 8} more` : ""),
  }));
}
