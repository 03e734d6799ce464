export { closeAgents, parseRetryAfter } from "../net/index.js";
export { createAnthropicProvider, mapAnthropicStopReason } from "./anthropic.js";
export * from "./create.js";
export { OPENAI_BASE_URL } from "./create.js";
export { type CreateContext, defineProvider, type ProviderConfig, type ProviderDefinition, type ProviderFields } from "./definition.js";
export { httpFields } from "./http-fields.js";
export { buildTinyGguf, createLocalProvider, writeTinyGguf } from "./local/index.js";
export { createOpenAiCompatibleProvider, mapOpenAiFinishReason } from "./openai-compatible.js";
export {
  BUILT_IN_PROVIDERS,
  type BuiltInProviderDefinition,
  catalogHint,
  createProvider,
  defaultConcurrency,
  type ModelRef,
  type ProviderKind,
  providerDefinitions,
  providerRegistryVersion,
  registerProvider,
  resolveModelPaths,
} from "./registry.js";
export { parseSse, SseDecoder, type SseEvent } from "./sse.js";
export type { ChatParams, ChatRequest, ChatResponse, FinishReason, Message, Provider, Role, ToolCall, ToolChoice, ToolDefinition, Usage } from "./types.js";
export { ProviderError, SIMULATED_HEADER } from "./types.js";
