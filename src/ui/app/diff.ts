/**
 * A word-level diff (longest common subsequence over whitespace-separated tokens) between the
 * baseline's output and a candidate's. Bounded: past 3,000 tokens a side it reports one replaced
 * block instead of spending quadratic time.
 */
export interface DiffPart {
  kind: "same" | "add" | "del";
  text: string;
}

const MAX = 3000;

export function wordDiff(a: string, b: string): DiffPart[] {
  const x = a.split(/(\s+)/).filter((t) => t !== "");
  const y = b.split(/(\s+)/).filter((t) => t !== "");
  if (x.length > MAX || y.length > MAX)
    return [
      { kind: "del", text: a },
      { kind: "add", text: b },
    ];
  const n = x.length;
  const m = y.length;
  const w = m + 1;
  const L = new Uint16Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i * w + j] = x[i] === y[j] ? (L[(i + 1) * w + j + 1] as number) + 1 : Math.max(L[(i + 1) * w + j] as number, L[i * w + j + 1] as number);
  const out: DiffPart[] = [];
  const push = (kind: DiffPart["kind"], text: string) => {
    const last = out.at(-1);
    if (last && last.kind === kind) last.text += text;
    else out.push({ kind, text });
  };
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      push("same", x[i] as string);
      i++;
      j++;
    } else if ((L[(i + 1) * w + j] as number) >= (L[i * w + j + 1] as number)) push("del", x[i++] as string);
    else push("add", y[j++] as string);
  }
  while (i < n) push("del", x[i++] as string);
  while (j < m) push("add", y[j++] as string);
  return out;
}
