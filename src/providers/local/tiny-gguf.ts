/**
 * Writes a tiny llama-architecture GGUF with random weights: a byte-level SentencePiece-style
 * vocabulary, 2 layers, 64 wide. node-llama-cpp loads it and generates from it; the output is
 * gibberish, the code path (tokenizer, chat template, sampling, token counting) is real.
 * Used by the demo and by the tests of the `local` provider.
 */
import { writeFile } from "node:fs/promises";
import { seededRng } from "../../stats/index.js";

const GGUF_ALIGNMENT = 32;
enum T {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}
type Kv =
  | { key: string; type: T.UINT32 | T.INT32 | T.FLOAT32; value: number }
  | { key: string; type: T.STRING; value: string }
  | { key: string; type: T.BOOL; value: boolean }
  | { key: string; type: T.ARRAY; of: T.STRING; value: string[] }
  | { key: string; type: T.ARRAY; of: T.FLOAT32 | T.INT32; value: number[] };

export interface TinyGgufOptions {
  embedding?: number;
  layers?: number;
  feedForward?: number;
  heads?: number;
  contextLength?: number;
  seed?: number;
  chatTemplate?: string;
}

/** A ChatML-like template kept in the GGUF, so the local provider's "template from the GGUF" path is exercised. */
export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

class ByteWriter {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    this.fixed(4, (b) => b.writeUInt32LE(v));
  }
  i32(v: number): void {
    this.fixed(4, (b) => b.writeInt32LE(v));
  }
  u64(v: number): void {
    this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(v)));
  }
  f32(v: number): void {
    this.fixed(4, (b) => b.writeFloatLE(v));
  }
  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.push(b);
  }
  pad(to: number): void {
    const rem = this.length % to;
    if (rem !== 0) this.push(Buffer.alloc(to - rem));
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks);
  }
  private fixed(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.push(b);
  }
}

function vocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let i = 0; i < 256; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const pieces = ["▁", ..."abcdefghijklmnopqrstuvwxyz".split("").flatMap((c) => [c, `▁${c}`])];
  for (const p of pieces) {
    tokens.push(p);
    types.push(1);
  }
  const scores = tokens.map((_, i) => (types[i] === 1 ? -i / 100 : 0));
  return { tokens, scores, types };
}

interface TinyShape {
  n: number;
  layers: number;
  ff: number;
  heads: number;
  ctx: number;
  nVocab: number;
}

interface TinyTensor {
  name: string;
  dims: number[];
  fill: "one" | "rand";
}

/** header → metadata → tensor infos → aligned tensor data (F32, ones for norms, seeded random elsewhere). */
export function buildTinyGguf(options: TinyGgufOptions = {}): Buffer {
  const vocab = vocabulary();
  const shape: TinyShape = {
    n: options.embedding ?? 64,
    layers: options.layers ?? 2,
    ff: options.feedForward ?? 128,
    heads: options.heads ?? 4,
    ctx: options.contextLength ?? 4096,
    nVocab: vocab.tokens.length,
  };
  const kvs = metadata(shape, vocab, options.chatTemplate ?? TINY_CHAT_TEMPLATE);
  const tensors = tensorList(shape);
  const w = new ByteWriter();
  w.push(Buffer.from("GGUF", "ascii"));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const kv of kvs) writeKv(w, kv);
  writeTensors(w, tensors, seededRng(options.seed ?? 42));
  return w.concat();
}

function metadata({ n, layers, ff, heads, ctx, nVocab }: TinyShape, vocab: ReturnType<typeof vocabulary>, chatTemplate: string): Kv[] {
  return [
    { key: "general.architecture", type: T.STRING, value: "llama" },
    { key: "general.name", type: T.STRING, value: "weightbridge-tiny-random" },
    { key: "general.license", type: T.STRING, value: "apache-2.0" },
    { key: "general.alignment", type: T.UINT32, value: GGUF_ALIGNMENT },
    { key: "general.file_type", type: T.UINT32, value: 0 },
    { key: "llama.context_length", type: T.UINT32, value: ctx },
    { key: "llama.embedding_length", type: T.UINT32, value: n },
    { key: "llama.block_count", type: T.UINT32, value: layers },
    { key: "llama.feed_forward_length", type: T.UINT32, value: ff },
    { key: "llama.attention.head_count", type: T.UINT32, value: heads },
    { key: "llama.attention.head_count_kv", type: T.UINT32, value: heads },
    { key: "llama.rope.dimension_count", type: T.UINT32, value: n / heads },
    { key: "llama.attention.layer_norm_rms_epsilon", type: T.FLOAT32, value: 1e-5 },
    { key: "llama.vocab_size", type: T.UINT32, value: nVocab },
    { key: "tokenizer.ggml.model", type: T.STRING, value: "llama" },
    { key: "tokenizer.ggml.tokens", type: T.ARRAY, of: T.STRING, value: vocab.tokens },
    { key: "tokenizer.ggml.scores", type: T.ARRAY, of: T.FLOAT32, value: vocab.scores },
    { key: "tokenizer.ggml.token_type", type: T.ARRAY, of: T.INT32, value: vocab.types },
    { key: "tokenizer.ggml.unknown_token_id", type: T.UINT32, value: 0 },
    { key: "tokenizer.ggml.bos_token_id", type: T.UINT32, value: 1 },
    { key: "tokenizer.ggml.eos_token_id", type: T.UINT32, value: 2 },
    { key: "tokenizer.ggml.add_bos_token", type: T.BOOL, value: true },
    { key: "tokenizer.chat_template", type: T.STRING, value: chatTemplate },
  ];
}

function tensorList({ n, layers, ff, nVocab }: TinyShape): TinyTensor[] {
  const tensors: TinyTensor[] = [
    { name: "token_embd.weight", dims: [n, nVocab], fill: "rand" },
    { name: "output_norm.weight", dims: [n], fill: "one" },
    { name: "output.weight", dims: [n, nVocab], fill: "rand" },
  ];
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [n], fill: "one" },
      { name: `${p}attn_q.weight`, dims: [n, n], fill: "rand" },
      { name: `${p}attn_k.weight`, dims: [n, n], fill: "rand" },
      { name: `${p}attn_v.weight`, dims: [n, n], fill: "rand" },
      { name: `${p}attn_output.weight`, dims: [n, n], fill: "rand" },
      { name: `${p}ffn_norm.weight`, dims: [n], fill: "one" },
      { name: `${p}ffn_gate.weight`, dims: [n, ff], fill: "rand" },
      { name: `${p}ffn_up.weight`, dims: [n, ff], fill: "rand" },
      { name: `${p}ffn_down.weight`, dims: [ff, n], fill: "rand" },
    );
  }
  return tensors;
}

function writeKv(w: ByteWriter, kv: Kv): void {
  w.str(kv.key);
  w.u32(kv.type);
  switch (kv.type) {
    case T.UINT32:
      w.u32(kv.value);
      break;
    case T.INT32:
      w.i32(kv.value);
      break;
    case T.FLOAT32:
      w.f32(kv.value);
      break;
    case T.BOOL:
      w.push(Buffer.from([kv.value ? 1 : 0]));
      break;
    case T.STRING:
      w.str(kv.value);
      break;
    case T.ARRAY:
      w.u32(kv.of);
      w.u64(kv.value.length);
      for (const v of kv.value) {
        if (kv.of === T.STRING) w.str(v as string);
        else if (kv.of === T.FLOAT32) w.f32(v as number);
        else w.i32(v as number);
      }
      break;
  }
}

/** The tensor infos (F32, offsets aligned), then the data section, each tensor padded to the alignment. */
function writeTensors(w: ByteWriter, tensors: readonly TinyTensor[], rand: () => number): void {
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    const bytes = t.dims.reduce((a, b) => a * b, 1) * 4;
    sizes.push(bytes);
    offset += Math.ceil(bytes / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  w.pad(GGUF_ALIGNMENT);
  tensors.forEach((t, i) => {
    const size = sizes[i] ?? 0;
    const data = Buffer.alloc(Math.ceil(size / GGUF_ALIGNMENT) * GGUF_ALIGNMENT);
    for (let j = 0; j < size / 4; j++) data.writeFloatLE(t.fill === "one" ? 1 : (rand() - 0.5) * 0.2, j * 4);
    w.push(data);
  });
}

export async function writeTinyGguf(path: string, options: TinyGgufOptions = {}): Promise<number> {
  const buf = buildTinyGguf(options);
  await writeFile(path, buf);
  return buf.length;
}
