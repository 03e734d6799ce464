/** Semantic similarity: cosine between embeddings of the answer and the expected text. */
import { GradeError, type Grader } from "./types.js";

export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) throw new GradeError(`similarity: embeddings differ in length (${a.length} vs ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export const similarity: Grader<"similarity"> = async (e, ctx) => {
  if (!ctx.embed) throw new GradeError("similarity needs an embeddings model: set `embedder:` in the config or `model:` on the expect");
  const [a, b] = await ctx.embed(e.model, [ctx.output, e.value]);
  if (!a || !b) throw new GradeError("similarity: the embeddings endpoint returned too few vectors");
  const cos = cosine(a, b);
  const threshold = e.threshold ?? 0.8;
  return { type: "similarity", score: Math.max(0, Math.min(1, cos)), pass: cos >= threshold, detail: { cosine: cos, threshold } };
};
