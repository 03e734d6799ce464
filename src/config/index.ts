export type { Message, Role } from "./message.js";
export * from "./project.js";
export { DEFAULT_CONFIG, loadConfigOnly, loadProject, loadProjectAsync, type Project, resolveConfigPath, resolveStoreUrl } from "./project.js";
export {
  type Config,
  configSchema,
  duration,
  type GenerationParams,
  type HttpModelConfig,
  type LocalModelConfig,
  type ModelConfig,
  type Price,
  priceSchema,
} from "./schema.js";
export * from "./suite.js";
export { type Case, type DatasetProvenance, loadSuite, loadSuiteAsync, type Suite } from "./suite.js";
export { type AgentSpec, EXPECT_TYPES, type Expect, type ExpectType, type ToolMock } from "./suite-schema.js";
export { renderTemplate } from "./template.js";
export { loadYamlFile, parseWith, parseYaml, type YamlSource } from "./yaml-source.js";
