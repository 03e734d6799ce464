/**
 * `provider: local`: a GGUF file run in-process by node-llama-cpp. One context sequence per model,
 * so requests run one at a time unless the config says otherwise; `path` is relative to the config.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { defineProvider } from "../definition.js";
import { createLocalProvider } from "./local-provider.js";

export const localDefinition = defineProvider({
  kind: "local",
  fields: {
    path: z.string().min(1),
    contextSize: z.int().positive().optional(),
    gpu: z.union([z.boolean(), z.literal("auto")]).optional(),
    threads: z.int().positive().optional(),
  },
  defaultConcurrency: 1,
  resolvePaths: (m, dir) => ({ ...m, path: resolve(dir, m.path) }),
  create: (m) =>
    createLocalProvider({
      id: m.id,
      path: m.path,
      ...(m.contextSize ? { contextSize: m.contextSize } : {}),
      ...(m.gpu !== undefined ? { gpu: m.gpu } : {}),
      ...(m.threads ? { threads: m.threads } : {}),
    }),
});
