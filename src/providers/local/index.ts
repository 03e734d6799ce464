export { createLocalProvider, type LocalOptions } from "./local-provider.js";
export { buildTinyGguf, TINY_CHAT_TEMPLATE, type TinyGgufOptions, writeTinyGguf } from "./tiny-gguf.js";
