/** weightbridge as a library: each part's public face, as its index exports it. */
export * as config from "./config/index.js";
export * as economics from "./economics/index.js";
export * as evaluate from "./evaluate/index.js";
export * as gateway from "./gateway/index.js";
export * as hub from "./hub/index.js";
export * as providers from "./providers/index.js";
export * as redteam from "./redteam/index.js";
export * as report from "./report/index.js";
export * as scoreboard from "./scoreboard/index.js";
export * as simulate from "./simulate/index.js";
export * as stats from "./stats/index.js";
export * as store from "./store/index.js";
export { UserError } from "./util/errors.js";
export * as vet from "./vet/index.js";
