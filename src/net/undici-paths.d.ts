// undici's Pool (and its request function) by their module paths: the package index also loads fetch, WebSocket,
// the cache API and more (~0.3 s of a cold unbundled start here, every eval run pays its share). Typed
// with undici's own types.
declare module "undici/lib/dispatcher/pool.js" {
  import type { Pool } from "undici";

  const PoolClass: typeof Pool;
  export default PoolClass;
}
// Dispatcher#request is attached to the prototype by the package index; by path it is this function, called on a dispatcher.
declare module "undici/lib/api/api-request.js" {
  import type { Dispatcher } from "undici";

  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
