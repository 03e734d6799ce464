// undici's Pool by its module path: the package index also loads fetch, WebSocket,
// the cache API and more (~0.3 s of a cold unbundled start here, every eval run pays its share). Typed
// with undici's own types.
declare module "undici/lib/dispatcher/pool.js" {
  import type { Pool } from "undici";

  const PoolClass: typeof Pool;
  export default PoolClass;
}
