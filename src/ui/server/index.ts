export { CSP, createUiServer, isLoopback, type UiServerOptions } from "./app.js";
