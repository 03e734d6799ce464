export { answer, type Behaviour, embedText, type Mode, REFUSAL } from "./behaviour.js";
export { answerConversation, DEFAULT_TOOL_ERRORS, TOOL_ERROR_KINDS, type ToolErrorKind, type ToolErrorMix } from "./conversation.js";
export * from "./script.js";
export { promptKey, type Script, scriptFromSuites } from "./script.js";
export * from "./server.js";
export { type Simulator, type SimulatorOptions, type SimulatorStats, startSimulator } from "./server.js";
