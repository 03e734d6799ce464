/** `provider: anthropic`: Anthropic's Messages API. */
import { z } from "zod";
import { createAnthropicProvider } from "./anthropic.js";
import { defineProvider } from "./definition.js";
import { httpFields } from "./http-fields.js";

export const anthropicDefinition = defineProvider({
  kind: "anthropic",
  fields: { ...httpFields, baseUrl: z.url().optional() },
  catalogHint: "anthropic",
  create: (m, { connections }) =>
    createAnthropicProvider({
      id: m.id,
      model: m.model,
      connections,
      ...(m.baseUrl ? { baseUrl: m.baseUrl } : {}),
      ...(m.apiKeyEnv ? { apiKeyEnv: m.apiKeyEnv } : {}),
      ...(m.headers ? { headers: m.headers } : {}),
    }),
});
