/**
 * The pickle opcodes of protocols 0–5 (CPython Lib/pickletools.py): byte, name and how the argument
 * that follows it is encoded. The machine (machine.ts) decodes arguments by kind and runs a handler
 * per name; an opcode missing here is an invalid pickle.
 */
export type ArgKind = "none" | "u1" | "u2" | "i4" | "u4" | "u8" | "f8" | "line" | "lines2" | "bytes1" | "bytes4" | "bytes8" | "long1" | "long4";

export interface Opcode {
  name: string;
  arg: ArgKind;
  /** Text opcodes' encoding (BINUNICODE*: UTF-8; the rest Latin-1). */
  utf8?: true;
}

const table: [number, string, ArgKind, true?][] = [
  [0x80, "PROTO", "u1"],
  [0x95, "FRAME", "u8"],
  [0x2e, "STOP", "none"],
  [0x28, "MARK", "none"],
  [0x30, "POP", "none"],
  [0x31, "POP_MARK", "none"],
  [0x32, "DUP", "none"],
  [0x46, "FLOAT", "line"],
  [0x49, "INT", "line"],
  [0x4c, "LONG", "line"],
  [0x4a, "BININT", "i4"],
  [0x4b, "BININT1", "u1"],
  [0x4d, "BININT2", "u2"],
  [0x47, "BINFLOAT", "f8"],
  [0x8a, "LONG1", "long1"],
  [0x8b, "LONG4", "long4"],
  [0x4e, "NONE", "none"],
  [0x88, "NEWTRUE", "none"],
  [0x89, "NEWFALSE", "none"],
  [0x53, "STRING", "line"],
  [0x56, "UNICODE", "line"],
  [0x54, "BINSTRING", "bytes4"],
  [0x42, "BINBYTES", "bytes4"],
  [0x58, "BINUNICODE", "bytes4", true],
  [0x55, "SHORT_BINSTRING", "bytes1"],
  [0x43, "SHORT_BINBYTES", "bytes1"],
  [0x8c, "SHORT_BINUNICODE", "bytes1", true],
  [0x8d, "BINUNICODE8", "bytes8", true],
  [0x8e, "BINBYTES8", "bytes8"],
  [0x96, "BYTEARRAY8", "bytes8"],
  [0x97, "NEXT_BUFFER", "none"],
  [0x98, "READONLY_BUFFER", "none"],
  [0x29, "EMPTY_TUPLE", "none"],
  [0x5d, "EMPTY_LIST", "none"],
  [0x7d, "EMPTY_DICT", "none"],
  [0x8f, "EMPTY_SET", "none"],
  [0x74, "TUPLE", "none"],
  [0x85, "TUPLE1", "none"],
  [0x86, "TUPLE2", "none"],
  [0x87, "TUPLE3", "none"],
  [0x6c, "LIST", "none"],
  [0x64, "DICT", "none"],
  [0x91, "FROZENSET", "none"],
  [0x61, "APPEND", "none"],
  [0x65, "APPENDS", "none"],
  [0x75, "SETITEMS", "none"],
  [0x90, "ADDITEMS", "none"],
  [0x73, "SETITEM", "none"],
  [0x67, "GET", "line"],
  [0x68, "BINGET", "u1"],
  [0x6a, "LONG_BINGET", "u4"],
  [0x70, "PUT", "line"],
  [0x71, "BINPUT", "u1"],
  [0x72, "LONG_BINPUT", "u4"],
  [0x94, "MEMOIZE", "none"],
  [0x63, "GLOBAL", "lines2"],
  [0x93, "STACK_GLOBAL", "none"],
  [0x82, "EXT1", "u1"],
  [0x83, "EXT2", "u2"],
  [0x84, "EXT4", "u4"],
  [0x69, "INST", "lines2"],
  [0x52, "REDUCE", "none"],
  [0x6f, "OBJ", "none"],
  [0x81, "NEWOBJ", "none"],
  [0x92, "NEWOBJ_EX", "none"],
  [0x62, "BUILD", "none"],
  [0x50, "PERSID", "line"],
  [0x51, "BINPERSID", "none"],
];

/** Indexed by opcode byte. */
export const OPCODES: readonly (Opcode | undefined)[] = (() => {
  const byByte: (Opcode | undefined)[] = new Array(256).fill(undefined);
  for (const [byte, name, arg, utf8] of table) byByte[byte] = utf8 ? { name, arg, utf8 } : { name, arg };
  return byByte;
})();
