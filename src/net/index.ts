/** The one HTTP layer (DESIGN.md, net/): inbound servers on node:http, outbound requests on undici, typed errors. */
export { createHttpServer, errorBody, type HttpServer, type HttpServerOptions, type InboundRequest, type Reply, SERVER_DEFAULTS } from "./server.js";
