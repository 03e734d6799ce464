/** The demo part's public face: other parts import only this. */
export * from "./run-demo.js";
