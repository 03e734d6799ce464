/** The ui part's public face: other parts import only this. */
export * from "./server/index.js";
