/** `provider: openai-compatible`: any server that speaks OpenAI's chat completions at `baseUrl`. */
import { z } from "zod";
import { defineProvider } from "./definition.js";
import { httpFields } from "./http-fields.js";
import { createOpenAiCompatibleProvider } from "./openai-compatible.js";

export const openAiCompatibleDefinition = defineProvider({
  kind: "openai-compatible",
  fields: { ...httpFields, baseUrl: z.url() },
  create: (m, { connections }) =>
    createOpenAiCompatibleProvider({
      id: m.id,
      kind: "openai-compatible",
      baseUrl: m.baseUrl,
      model: m.model,
      connections,
      ...(m.apiKeyEnv ? { apiKeyEnv: m.apiKeyEnv } : {}),
      ...(m.headers ? { headers: m.headers } : {}),
    }),
});
