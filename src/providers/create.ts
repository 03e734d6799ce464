/** Kept for the callers of `createProvider`: the switch that lived here is now the registry (registry.ts). */
export { OPENAI_BASE_URL } from "./openai.definition.js";
export { createProvider } from "./registry.js";
