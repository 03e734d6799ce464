/**
 * The gateway's keys: a presented Bearer token is hashed (SHA-256, what the store keeps) on every
 * request and looked up among the keys loaded from the store. Nothing is cached per unknown
 * token, so a flood of random tokens costs a hash each and no memory (a token that is one of the
 * loaded keys keeps its hash until the next load: at most one entry per key, and ~5 µs saved on
 * every request of a client that presents it); tokens longer than any key
 * `keys create` makes are refused unhashed. Revocations and limit changes are read every few
 * seconds; a token not found triggers one reload (shared by everyone waiting, at most a few per
 * second), so a key created a moment ago works without a restart and unknown tokens cannot turn
 * into a query each.
 */
import { hash } from "node:crypto";
import type { Kysely } from "kysely";
import type { GatewayKey } from "../records/index.js";
import type { Database } from "../store/index.js";
import { listKeys } from "../store/index.js";

export const hashKey = (key: string) => hash("sha256", key, "hex");

/** `keys create` makes 35-character keys; anything much longer is not one of ours. */
export const MAX_TOKEN_LENGTH = 256;

export class KeyRing {
  private byHash = new Map<string, GatewayKey>();
  /** Hashes of tokens found among the loaded keys (never of unknown ones); emptied by every load. */
  private knownHashes = new Map<string, string>();
  private loadedAt = 0;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly o: { refreshMs: number; missReloadMs: number } = { refreshMs: 2000, missReloadMs: 250 },
  ) {}

  async load(): Promise<void> {
    const keys = await listKeys(this.db);
    this.byHash = new Map(keys.map((k) => [k.keyHash, k]));
    this.knownHashes = new Map();
    this.loadedAt = Date.now();
  }

  /** The live (not revoked) key an Authorization header presents, if any. */
  async lookup(authorization: string | undefined): Promise<GatewayKey | undefined> {
    const token = bearer(authorization);
    if (token === undefined) return undefined;
    if (Date.now() - this.loadedAt > this.o.refreshMs) await this.reload();
    const known = this.knownHashes.get(token);
    const h = known ?? hashKey(token);
    let k = this.byHash.get(h);
    if (k && known === undefined && this.knownHashes.size < this.byHash.size) this.knownHashes.set(token, h);
    if (!k) {
      // Not known: reload once the last load is missReloadMs old (waiting until then), so a key
      // created a moment ago is found and a flood of unknown tokens costs at most a few loads a second.
      const wait = this.loadedAt + this.o.missReloadMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await this.reload();
      k = this.byHash.get(h);
    }
    return k && !k.revokedAt ? k : undefined;
  }

  private reload(): Promise<void> {
    this.reloading ??= this.load().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }
}

/** The token of `Authorization: Bearer TOKEN`, when it is well formed and not over-long. */
function bearer(authorization: string | undefined): string | undefined {
  if (!authorization || authorization.length > MAX_TOKEN_LENGTH + 7) return undefined;
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization);
  return m ? (m[1] as string) : undefined;
}
