/**
 * The chat message type, re-exported for config's users (suites are lists of messages). It is defined
 * with the provider contract (providers/types.ts), a floor below config, so that config, the store and
 * providers share one representation without providers importing config.
 */
export type { Message, Role } from "../providers/index.js";
