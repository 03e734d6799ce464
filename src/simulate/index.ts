export { answer, type Behaviour, embedText, type Mode, REFUSAL } from "./behaviour.js";
export { promptKey, type Script, scriptFromSuites } from "./script.js";
export { type Simulator, type SimulatorOptions, type SimulatorStats, startSimulator } from "./server.js";
