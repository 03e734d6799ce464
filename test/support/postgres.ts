/**
 * A throwaway PostgreSQL server for store tests: initdb in a temporary directory, started on a free
 * port (fsync off), stopped with the test. Needs PostgreSQL's server binaries (Debian: apt-get
 * install -y postgresql); as root, the server runs as the `postgres` user, which that package creates.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

function binDir(): string {
  try {
    return execFileSync("pg_config", ["--bindir"], { stdio: "pipe" }).toString().trim();
  } catch {
    const root = "/usr/lib/postgresql";
    const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    for (const v of versions) if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  }
  throw new Error("this test needs a PostgreSQL server (apt-get install -y postgresql): no pg_config and no /usr/lib/postgresql/*/bin/initdb");
}

export interface Postgres {
  url: string;
  /** A new, empty database on this server; its URL. */
  database(): Promise<string>;
  stop(): void;
}

export async function startPostgres(): Promise<Postgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "wb-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) => {
    const cmd = asRoot ? "runuser" : join(bin, tool);
    const argv = asRoot ? ["-u", "postgres", "--", join(bin, tool), ...args] : args;
    try {
      execFileSync(cmd, argv, { stdio: "pipe", cwd: dir });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(`${tool} failed: ${err.stderr?.toString() || err.message}`);
    }
  };
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    chownSync(dir, uid, gid);
  }
  run("initdb", ["-D", data, "-U", "wb", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-w", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
  const url = `postgres://wb@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    url,
    database: async () => {
      const name = `wb_${process.pid}_${n++}`;
      await queryPostgres(url, `CREATE DATABASE ${name}`);
      return url.replace(/\/postgres$/, `/${name}`);
    },
    stop: () => run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]),
  };
}

/** Run one query with PostgreSQL's own client (to read back what weightbridge wrote); its rows. */
export async function queryPostgres(url: string, text: string): Promise<Record<string, unknown>[]> {
  const { default: pg } = await import("pg");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}
