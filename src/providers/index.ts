export { closeAgents, parseRetryAfter } from "../net/index.js";
export { createAnthropicProvider, mapAnthropicStopReason } from "./anthropic.js";
export { createProvider, OPENAI_BASE_URL } from "./create.js";
export { buildTinyGguf, createLocalProvider, writeTinyGguf } from "./local/index.js";
export { createOpenAiCompatibleProvider, mapOpenAiFinishReason } from "./openai-compatible.js";
export { parseSse, type SseEvent } from "./sse.js";
export type { ChatParams, ChatRequest, ChatResponse, FinishReason, Message, Provider, Role, Usage } from "./types.js";
export { ProviderError } from "./types.js";
