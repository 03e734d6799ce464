/**
 * A symbolic pickle machine: it runs the opcodes (opcodes.ts) over stand-in values — strings, ints,
 * tuples, dicts, imported globals and "the result of calling X" — so it sees what is imported
 * (GLOBAL, STACK_GLOBAL, also with names from the memo, INST, EXT*) and what is called with it
 * (REDUCE, OBJ, NEWOBJ, NEWOBJ_EX, INST, BUILD). Nothing is ever deserialised. Bounds: every length is
 * checked against the bytes left, strings over 4 KiB are skipped unread, stack, memo and opcode
 * counts are capped. joblib's inline array bytes are skipped by their declared size (rules.ts).
 */
import { classifyGlobal, FORWARDING, type GlobalClass } from "../../globals.js";
import type { ByteSource } from "../../source.js";
import { type ArgKind, OPCODES } from "./opcodes.js";
import { isJoblibFileWrapper, isJoblibWrapper, joblibArray, joblibFile } from "./rules.js";

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

export type V =
  | { k: "str"; s: string; bytes?: true }
  | { k: "int"; n: number }
  | { k: "global"; g: GlobalRef }
  /** `init`: made by calling the class (its __init__ ran), not by NEWOBJ or copyreg; `state`: its last BUILD. */
  | { k: "obj"; of: GlobalRef | undefined; args?: V; init?: boolean; state?: V }
  | { k: "tuple"; items: V[] }
  | { k: "dict"; entries: Map<string, V> }
  | { k: "val" };

export const VAL: V = { k: "val" };
/** Python's None, told apart from other values because joblib reads `attr is not None`. */
export const NONE: V = { k: "val" };
const MAX_KEPT_STRING = 4096;
const MAX_TUPLE_KEPT = 64;
const MAX_DICT_KEPT = 64;
/** Object arrays inside joblib files hold nested pickles; they nest at most this deep. */
const MAX_NESTED = 8;

export class PickleError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

type Arg = number | string | [string, string] | V | undefined;
type Handler = (m: Machine, arg: Arg, at: number) => void;

export class Machine {
  pos: number;
  ops = 0;
  readonly globals = new Map<string, GlobalRef>();
  readonly dynamic: { op: string; at: number; what: string }[] = [];
  /** joblib < 0.10 NDArrayWrappers: the file each one has numpy.load (allow_pickle=True) on load. */
  readonly external: { at: number; file: string | undefined }[] = [];
  stack: V[] = [];
  marks: V[][] = [];
  memo = new Map<number, V>();
  private nested = 0;

  constructor(
    readonly src: ByteSource,
    readonly limits: PickleLimits,
    readonly extra: ReadonlySet<string>,
    start: number,
  ) {
    this.pos = start;
  }

  need(at: number, n: number): void {
    if (n < 0 || at + n > this.src.size) throw new PickleError(`length ${n} runs past the end of the data (${this.src.size - at} bytes left)`, at);
  }

  uint(at: number, n: 1 | 2 | 4 | 8): number {
    this.need(at, n);
    const b = this.src.read(at, n);
    if (n === 1) return b.readUInt8(0);
    if (n === 2) return b.readUInt16LE(0);
    if (n === 4) return b.readUInt32LE(0);
    const big = b.readBigUInt64LE(0);
    return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
  }

  private line(): string {
    const chunk = this.src.read(this.pos, Math.min(this.limits.maxLine, this.src.size - this.pos));
    const nl = chunk.indexOf(10);
    if (nl < 0) throw new PickleError(`no newline within ${this.limits.maxLine} bytes`, this.pos);
    this.pos += nl + 1;
    return chunk.subarray(0, nl).toString("latin1");
  }

  private bytes(lenBytes: 1 | 4 | 8, utf8: boolean): V {
    const n = this.uint(this.pos, lenBytes);
    const at = this.pos + lenBytes;
    this.need(at, n);
    this.pos = at + n;
    return n <= MAX_KEPT_STRING ? { k: "str", s: this.src.read(at, n).toString(utf8 ? "utf8" : "latin1") } : VAL;
  }

  private skip(n: number): undefined {
    this.need(this.pos, n);
    this.pos += n;
    return undefined;
  }

  /** Decode the argument after an opcode and move past it. */
  private arg(kind: ArgKind, utf8: boolean): Arg {
    const at = this.pos;
    switch (kind) {
      case "none":
        return undefined;
      case "u1":
      case "u2":
      case "u4":
      case "u8": {
        const n = ({ u1: 1, u2: 2, u4: 4, u8: 8 } as const)[kind];
        const v = this.uint(at, n);
        this.pos += n;
        return v;
      }
      case "i4":
        this.need(at, 4);
        this.pos += 4;
        return this.src.read(at, 4).readInt32LE(0);
      case "f8":
        return this.skip(8);
      case "line":
        return this.line();
      case "lines2": {
        const module = this.line();
        return [module, this.line()];
      }
      case "bytes1":
        return this.bytes(1, utf8);
      case "bytes4":
        return this.bytes(4, utf8);
      case "bytes8":
        return this.bytes(8, utf8);
      case "long1":
        return this.skip(this.uint(at, 1) + 1);
      case "long4":
        return this.skip(this.uint(at, 4) + 4);
    }
  }

  push(v: V, at: number): void {
    if (this.stack.length >= this.limits.maxStack) throw new PickleError(`stack deeper than ${this.limits.maxStack}`, at);
    this.stack.push(v);
  }

  pop(at: number): V {
    const v = this.stack.pop();
    if (v === undefined) throw new PickleError("stack underflow", at);
    return v;
  }

  top(at: number, what: string): V {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined) throw new PickleError(what, at);
    return v;
  }

  popMark(at: number): V[] {
    const items = this.stack;
    const prev = this.marks.pop();
    if (!prev) throw new PickleError("no MARK on the stack", at);
    this.stack = prev;
    return items;
  }

  mark(at: number): void {
    if (this.marks.length >= this.limits.maxStack) throw new PickleError("too many MARKs", at);
    this.marks.push(this.stack);
    this.stack = [];
  }

  tuple(items: V[]): V {
    return { k: "tuple", items: items.slice(0, MAX_TUPLE_KEPT) };
  }

  setItems(target: V, items: V[]): void {
    if (target.k !== "dict") return;
    for (let i = 0; i + 1 < items.length; i += 2) {
      const key = items[i] as V;
      // A later value for a kept key replaces it (Python's dict does), however many keys came between.
      if (key.k === "str" && !key.bytes && (target.entries.size < MAX_DICT_KEPT || target.entries.has(key.s))) target.entries.set(key.s, items[i + 1] as V);
    }
  }

  memoPut(idx: number, at: number): void {
    if (this.memo.size >= this.limits.maxMemo && !this.memo.has(idx)) throw new PickleError(`memo larger than ${this.limits.maxMemo}`, at);
    this.memo.set(idx, this.top(at, "memo put with an empty stack"));
  }

  memoGet(idx: number, at: number): void {
    const v = this.memo.get(idx);
    if (v === undefined) throw new PickleError(`memo key ${idx} was never stored`, at);
    this.push(v, at);
  }

  ref(module: string, name: string, at: number, by: string): GlobalRef {
    const key = `${module}.${name}`;
    let g = this.globals.get(key);
    if (!g) {
      g = { module, name, cls: classifyGlobal(module, name, this.extra), importedAt: at, importedBy: by, calls: [] };
      this.globals.set(key, g);
    }
    return g;
  }

  /** Record a call of `fn` (and, through copyreg's forwarders, of the class they are given). */
  called(fn: V | undefined, op: string, at: number, args?: V): GlobalRef | undefined {
    if (fn?.k === "global") {
      fn.g.calls.push({ op, at });
      if (FORWARDING.has(`${fn.g.module}.${fn.g.name}`) && args?.k === "tuple") {
        for (const a of args.items) if (a.k === "global") a.g.calls.push({ op, at, via: `${fn.g.module}.${fn.g.name}` });
        // copyreg's forwarders return an instance of the class they are given: that is what was built.
        const cls = args.items[0];
        if (cls?.k === "global") return cls.g;
      }
      return fn.g;
    }
    const what =
      fn?.k === "obj" ? (fn.of ? `the result of ${fn.of.module}.${fn.of.name}(…)` : "the result of a call") : fn?.k === "str" ? "a string" : "a computed value";
    this.dynamic.push({ op, at, what });
    return undefined;
  }

  /** BUILD on a joblib NumpyArrayWrapper: skip the array bytes joblib wrote after it, or scan an object array's nested pickle. */
  build(obj: V, state: V, at: number): void {
    if (obj.k === "global") obj.g.calls.push({ op: "BUILD", at });
    if (obj.k !== "obj") return;
    obj.state = state;
    if (obj.of && isJoblibFileWrapper(obj.of)) this.external.push({ at, file: joblibFile(obj) });
    if (!obj.of || !isJoblibWrapper(obj.of)) return;
    const a = joblibArray(obj);
    if (typeof a === "string") throw new PickleError(`joblib array: ${a}`, at);
    if (a.object) {
      if (this.nested >= MAX_NESTED) throw new PickleError(`object arrays nested more than ${MAX_NESTED} deep`, at);
      this.run();
      return;
    }
    if (a.aligned) this.pos += 1 + this.uint(this.pos, 1);
    if (a.bytes > this.src.size - this.pos)
      throw new PickleError(`joblib array declares ${a.bytes} bytes of data but ${Math.max(0, this.src.size - this.pos)} remain`, at);
    this.pos += a.bytes;
  }

  /** Run one pickle, from the current position to its STOP, with its own stack and memo. */
  run(): void {
    const saved = { stack: this.stack, marks: this.marks, memo: this.memo };
    this.stack = [];
    this.marks = [];
    this.memo = new Map();
    this.nested++;
    try {
      for (;;) {
        if (++this.ops > this.limits.maxOps) throw new PickleError(`more than ${this.limits.maxOps} opcodes`, this.pos);
        const at = this.pos;
        if (at >= this.src.size) throw new PickleError("unexpected end of data", at);
        const byte = this.src.read(at, 1)[0] as number;
        const op = OPCODES[byte];
        if (!op) throw new PickleError(`invalid opcode 0x${byte.toString(16).padStart(2, "0")}`, at);
        this.pos++;
        if (op.name === "STOP") return;
        const arg = this.arg(op.arg, op.utf8 === true);
        (HANDLERS[op.name] as Handler)(this, arg, at);
      }
    } finally {
      this.nested--;
      Object.assign(this, saved);
    }
  }
}

const pushVal: Handler = (m, _a, at) => m.push(VAL, at);
/** bytes, not str, in Python 3: a dict key b"shape" is not the attribute `shape`. */
const asBytes = (v: V): V => (v.k === "str" ? { ...v, bytes: true } : v);
const nothing: Handler = () => {};

/** What each opcode does to the stack, memo and calls (STOP ends Machine.run). */
const HANDLERS: Record<string, Handler> = {
  PROTO: (_m, a, at) => {
    if ((a as number) > 5) throw new PickleError(`unsupported protocol ${a}`, at);
  },
  FRAME: nothing,
  MARK: (m, _a, at) => m.mark(at),
  POP: (m, _a, at) => {
    if (m.stack.length === 0) m.popMark(at);
    else m.stack.pop();
  },
  POP_MARK: (m, _a, at) => void m.popMark(at),
  DUP: (m, _a, at) => m.push(m.top(at, "DUP on an empty stack"), at),
  FLOAT: pushVal,
  INT: pushVal,
  LONG: pushVal,
  BININT: (m, a, at) => m.push({ k: "int", n: a as number }, at),
  BININT1: (m, a, at) => m.push({ k: "int", n: a as number }, at),
  BININT2: (m, a, at) => m.push({ k: "int", n: a as number }, at),
  BINFLOAT: pushVal,
  LONG1: pushVal,
  LONG4: pushVal,
  NONE: (m, _a, at) => m.push(NONE, at),
  NEWTRUE: pushVal,
  NEWFALSE: pushVal,
  STRING: (m, a, at) => {
    const q = /^(['"])(.*)\1$/s.exec((a as string).trim());
    m.push(q && (q[2] as string).length <= MAX_KEPT_STRING ? { k: "str", s: q[2] as string } : VAL, at);
  },
  UNICODE: (m, a, at) => m.push((a as string).length <= MAX_KEPT_STRING ? { k: "str", s: a as string } : VAL, at),
  BINSTRING: (m, a, at) => m.push(a as V, at),
  BINBYTES: (m, a, at) => m.push(asBytes(a as V), at),
  BINUNICODE: (m, a, at) => m.push(a as V, at),
  SHORT_BINSTRING: (m, a, at) => m.push(a as V, at),
  SHORT_BINBYTES: (m, a, at) => m.push(asBytes(a as V), at),
  SHORT_BINUNICODE: (m, a, at) => m.push(a as V, at),
  BINUNICODE8: (m, a, at) => m.push(a as V, at),
  BINBYTES8: (m, a, at) => m.push(asBytes(a as V), at),
  BYTEARRAY8: (m, a, at) => m.push(asBytes(a as V), at),
  NEXT_BUFFER: pushVal,
  READONLY_BUFFER: (m, _a, at) => void m.top(at, "READONLY_BUFFER on an empty stack"),
  EMPTY_TUPLE: (m, _a, at) => m.push(m.tuple([]), at),
  EMPTY_LIST: pushVal,
  EMPTY_DICT: (m, _a, at) => m.push({ k: "dict", entries: new Map() }, at),
  EMPTY_SET: pushVal,
  TUPLE: (m, _a, at) => m.push(m.tuple(m.popMark(at)), at),
  TUPLE1: (m, _a, at) => m.push(m.tuple([m.pop(at)]), at),
  TUPLE2: (m, _a, at) => {
    const b = m.pop(at);
    m.push(m.tuple([m.pop(at), b]), at);
  },
  TUPLE3: (m, _a, at) => {
    const c = m.pop(at);
    const b = m.pop(at);
    m.push(m.tuple([m.pop(at), b, c]), at);
  },
  LIST: (m, _a, at) => {
    m.popMark(at);
    m.push(VAL, at);
  },
  FROZENSET: (m, _a, at) => {
    m.popMark(at);
    m.push(VAL, at);
  },
  DICT: (m, _a, at) => {
    const d: V = { k: "dict", entries: new Map() };
    m.setItems(d, m.popMark(at));
    m.push(d, at);
  },
  APPEND: (m, _a, at) => {
    m.pop(at);
    m.top(at, "APPEND without a list");
  },
  APPENDS: (m, _a, at) => {
    m.popMark(at);
    m.top(at, "no container under the MARK");
  },
  ADDITEMS: (m, _a, at) => {
    m.popMark(at);
    m.top(at, "no container under the MARK");
  },
  SETITEMS: (m, _a, at) => {
    const items = m.popMark(at);
    m.setItems(m.top(at, "no container under the MARK"), items);
  },
  SETITEM: (m, _a, at) => {
    const v = m.pop(at);
    const key = m.pop(at);
    m.setItems(m.top(at, "SETITEM without a dict"), [key, v]);
  },
  GET: (m, a, at) => m.memoGet(Number.parseInt(a as string, 10), at),
  BINGET: (m, a, at) => m.memoGet(a as number, at),
  LONG_BINGET: (m, a, at) => m.memoGet(a as number, at),
  PUT: (m, a, at) => m.memoPut(Number.parseInt(a as string, 10), at),
  BINPUT: (m, a, at) => m.memoPut(a as number, at),
  LONG_BINPUT: (m, a, at) => m.memoPut(a as number, at),
  MEMOIZE: (m, _a, at) => m.memoPut(m.memo.size, at),
  GLOBAL: (m, a, at) => {
    const [module, name] = a as [string, string];
    m.push({ k: "global", g: m.ref(module, name, at, "GLOBAL") }, at);
  },
  STACK_GLOBAL: (m, _a, at) => {
    const name = m.pop(at);
    const module = m.pop(at);
    if (module.k !== "str" || name.k !== "str") {
      m.dynamic.push({ op: "STACK_GLOBAL", at, what: "an import whose module or name is computed" });
      m.push({ k: "global", g: m.ref("<computed>", `<computed@${at}>`, at, "STACK_GLOBAL") }, at);
    } else m.push({ k: "global", g: m.ref(module.s, name.s, at, "STACK_GLOBAL") }, at);
  },
  EXT1: (m, a, at) => m.push({ k: "global", g: m.ref("<copyreg-extension>", String(a), at, "EXT") }, at),
  EXT2: (m, a, at) => m.push({ k: "global", g: m.ref("<copyreg-extension>", String(a), at, "EXT") }, at),
  EXT4: (m, a, at) => m.push({ k: "global", g: m.ref("<copyreg-extension>", String(a), at, "EXT") }, at),
  INST: (m, a, at) => {
    const [module, name] = a as [string, string];
    const args = m.popMark(at);
    const g = m.ref(module, name, at, "INST");
    // INST and OBJ call the class only when given arguments; without, they use __new__ and __init__ does not run.
    m.push({ k: "obj", of: m.called({ k: "global", g }, "INST", at, m.tuple(args)), args: m.tuple(args), init: args.length > 0 }, at);
  },
  REDUCE: (m, _a, at) => {
    const args = m.pop(at);
    const fn = m.pop(at);
    const of = m.called(fn, "REDUCE", at, args);
    m.push({ k: "obj", of, args, init: fn.k === "global" && of === fn.g }, at);
  },
  OBJ: (m, _a, at) => {
    const items = m.popMark(at);
    if (items.length === 0) throw new PickleError("OBJ without a class", at);
    const args = m.tuple(items.slice(1));
    m.push({ k: "obj", of: m.called(items[0], "OBJ", at, args), args, init: items.length > 1 }, at);
  },
  NEWOBJ: (m, _a, at) => {
    const args = m.pop(at);
    const cls = m.pop(at);
    m.push({ k: "obj", of: m.called(cls, "NEWOBJ", at, args) }, at);
  },
  NEWOBJ_EX: (m, _a, at) => {
    m.pop(at);
    const args = m.pop(at);
    const cls = m.pop(at);
    m.push({ k: "obj", of: m.called(cls, "NEWOBJ_EX", at, args) }, at);
  },
  BUILD: (m, _a, at) => {
    const state = m.pop(at);
    m.build(m.top(at, "BUILD without an object"), state, at);
  },
  PERSID: pushVal,
  BINPERSID: (m, _a, at) => {
    m.pop(at);
    m.push(VAL, at);
  },
};
