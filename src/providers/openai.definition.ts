/** `provider: openai`: OpenAI's own API (the OpenAI-compatible client with OpenAI's URL, key variable and prices). */
import { z } from "zod";
import { defineProvider } from "./definition.js";
import { httpFields } from "./http-fields.js";
import { createOpenAiCompatibleProvider } from "./openai-compatible.js";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

export const openAiDefinition = defineProvider({
  kind: "openai",
  fields: { ...httpFields, baseUrl: z.url().optional() },
  catalogHint: "openai",
  create: (m, { connections }) =>
    createOpenAiCompatibleProvider({
      id: m.id,
      kind: "openai",
      baseUrl: m.baseUrl ?? OPENAI_BASE_URL,
      model: m.model,
      apiKeyEnv: m.apiKeyEnv ?? "OPENAI_API_KEY",
      connections,
      ...(m.headers ? { headers: m.headers } : {}),
    }),
});
