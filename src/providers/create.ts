import type { ModelConfig } from "../config/schema.js";
import { createAnthropicProvider } from "./anthropic.js";
import { createLocalProvider } from "./local/local-provider.js";
import { createOpenAiCompatibleProvider } from "./openai-compatible.js";
import type { Provider } from "./types.js";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

/** One provider per configured model. */
export function createProvider(m: ModelConfig, connections = 64): Provider {
  switch (m.provider) {
    case "openai-compatible":
      return createOpenAiCompatibleProvider({
        id: m.id,
        baseUrl: m.baseUrl,
        model: m.model,
        connections,
        ...(m.apiKeyEnv ? { apiKeyEnv: m.apiKeyEnv } : {}),
        ...(m.headers ? { headers: m.headers } : {}),
      });
    case "openai":
      return createOpenAiCompatibleProvider({
        id: m.id,
        kind: "openai",
        baseUrl: m.baseUrl ?? OPENAI_BASE_URL,
        model: m.model,
        apiKeyEnv: m.apiKeyEnv ?? "OPENAI_API_KEY",
        connections,
        ...(m.headers ? { headers: m.headers } : {}),
      });
    case "anthropic":
      return createAnthropicProvider({
        id: m.id,
        model: m.model,
        connections,
        ...(m.baseUrl ? { baseUrl: m.baseUrl } : {}),
        ...(m.apiKeyEnv ? { apiKeyEnv: m.apiKeyEnv } : {}),
        ...(m.headers ? { headers: m.headers } : {}),
      });
    case "local":
      return createLocalProvider({
        id: m.id,
        path: m.path,
        ...(m.contextSize ? { contextSize: m.contextSize } : {}),
        ...(m.gpu !== undefined ? { gpu: m.gpu } : {}),
        ...(m.threads ? { threads: m.threads } : {}),
      });
  }
}
