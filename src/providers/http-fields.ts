/** The config keys every HTTP provider kind shares (upstream model name, API key variable, headers). */
import { z } from "zod";

export const httpFields = {
  model: z.string().min(1),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
};
