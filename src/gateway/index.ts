export * from "../detect/index.js"; // detection moved to src/detect (issue 17); re-exported so existing importers keep working
export * from "./config.js";
export { type Deployment, type GatewayConfig, gatewayConfigSchema, loadGatewayConfig, type Route } from "./config.js";
export { type Decision, decide } from "./policy.js";
export * from "./server.js";
export * from "./shadow/index.js";
