/** The one HTTP layer (DESIGN.md, net/): inbound servers on node:http, outbound requests on undici, typed errors. Nobody else opens sockets. */
export {
  closeAgents,
  dispatcherFor,
  JsonText,
  type PoolRegistry,
  type PostOptions,
  type PostResult,
  parseRetryAfter,
  postJson,
  type ResponseHeaders,
} from "./client.js";
export {
  AnswerCutOffError,
  BodyTimeoutError,
  ClosedWithoutAnswerError,
  ConnectError,
  ConnectTimeoutError,
  classify,
  DnsError,
  HeadTimeoutError,
  HttpStatusError,
  isNetError,
  MalformedBodyError,
  NetError,
  type NetErrorCode,
  OtherNetError,
  TlsError,
} from "./errors.js";
export { bareHost, proxyFor } from "./proxy.js";
export { createHttpServer, errorBody, type HttpServer, type HttpServerOptions, type InboundRequest, type Reply, SERVER_DEFAULTS } from "./server.js";
