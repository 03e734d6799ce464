// undici's Pool by its module path: importing the package index also loads fetch, WebSocket and
// the cache API (and wakes Node's internal undici), ~0.5 MB we never use. Typed with undici's own types.
declare module "undici/lib/dispatcher/pool.js" {
  import type { Pool } from "undici";

  const PoolCtor: typeof Pool;
  export default PoolCtor;
}
