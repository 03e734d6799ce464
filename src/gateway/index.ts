export { type Deployment, type GatewayConfig, gatewayConfigSchema, loadGatewayConfig, type Route } from "./config.js";
export * from "./detect/index.js";
export { type Decision, decide } from "./policy.js";
