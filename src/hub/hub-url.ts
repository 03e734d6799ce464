/** Hub endpoint and token, as the Hub's own clients read them. */
export function hubUrl(): string {
  return (process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
}

export function hubToken(): string | undefined {
  return process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined;
}

/** "hf:org/name[@revision]" → parts; undefined for anything else. */
export function parseHfRef(ref: string): { repo: string; revision: string } | undefined {
  const m = /^hf:([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(ref);
  if (!m) return undefined;
  return { repo: m[1] as string, revision: m[2] ?? "main" };
}
