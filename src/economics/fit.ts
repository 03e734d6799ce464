/**
 * Does a model fit on the GPUs it is costed on? Weights (parameters × bytes per parameter, both read
 * from the model name: "Qwen3-235B-A22B-FP8" → 235e9 × 1) plus a KV-cache and activation headroom
 * against the GPUs' memory. A heuristic that catches the impossible (a 235B model in bf16 on one
 * 80 GB GPU), not a capacity planner: names without a parameter count are not judged.
 */

/** Memory per GPU in GB, by the names data/gpus.json and users use. */
const GPU_MEMORY_GB: [RegExp, number][] = [
  [/^h200/i, 141],
  [/^h100|^h800/i, 80],
  [/^b200/i, 192],
  [/^mi300x/i, 192],
  [/^a100.*40/i, 40],
  [/^a100/i, 80],
  [/^l40s?/i, 48],
  [/^a10g?$/i, 24],
  [/^l4$/i, 24],
  [/^rtx ?4090|^4090/i, 24],
];

/** KV cache and activations: weights take at most this share of memory to leave room for serving. */
const WEIGHTS_SHARE = 0.85;

export function gpuMemoryGb(gpu: string): number | undefined {
  return GPU_MEMORY_GB.find(([re]) => re.test(gpu.trim()))?.[1];
}

/** Total parameters from a model name: "235B", "8b", "1.5B", "235B-A22B" (the total, not the active). */
export function paramsFromName(name: string): number | undefined {
  const m = /(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])/i.exec(name);
  if (!m) return undefined;
  return Number(m[1]) * (m[2]?.toLowerCase() === "b" ? 1e9 : 1e6);
}

export function bytesPerParam(name: string): number {
  if (/(^|[^a-z])(int4|q4|4bit|4-bit|awq|gptq|nf4|mxfp4)/i.test(name)) return 0.5;
  if (/(^|[^a-z])(fp8|int8|q8|8bit|8-bit)/i.test(name)) return 1;
  return 2;
}

export interface FitCheck {
  weightsGb: number;
  memoryGb: number;
  fits: boolean;
  message: string;
}

export function checkFit(modelName: string, gpu: string, gpus: number): FitCheck | undefined {
  const params = paramsFromName(modelName);
  const perGpu = gpuMemoryGb(gpu);
  if (params === undefined || perGpu === undefined) return undefined;
  const weightsGb = Math.round((params * bytesPerParam(modelName)) / 1e9);
  const memoryGb = perGpu * gpus;
  const fits = weightsGb <= memoryGb * WEIGHTS_SHARE;
  const need = Math.ceil(weightsGb / WEIGHTS_SHARE / perGpu);
  return {
    weightsGb,
    memoryGb,
    fits,
    message: fits
      ? `${modelName}: ~${weightsGb} GB of weights on ${gpus}x ${gpu} (${memoryGb} GB)`
      : `${modelName} needs ~${weightsGb} GB for its weights alone, plus KV cache; ${gpus}x ${gpu} has ${memoryGb} GB. It needs at least ${need} such GPUs (or a quantised build)`,
  };
}
