import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { UserError } from "../util/errors.js";
import { renderTable } from "../util/table.js";
import { list, positiveInt, positiveNumber, printJson, say, warn } from "./output.js";
import { gatewayConfigOption } from "./store-access.js";

export async function openGatewayStore(configFile: string) {
  const [{ loadGatewayConfig }, { resolveStoreUrl }, { openStore }] = await Promise.all([
    import("../gateway/index.js"),
    import("../config/index.js"),
    import("../store/index.js"),
  ]);
  const config = loadGatewayConfig(configFile);
  const store = await openStore(resolveStoreUrl(dirname(resolve(configFile)), config.store));
  return { config, store };
}

function shadowWindow(v: string): string {
  if (!/^[\w.-]{1,64}$/.test(v)) throw new InvalidArgumentError("letters, digits, . _ - (at most 64)");
  return v;
}

const GATEWAY_HELP = `
Reference (config, policy, streaming, audit, metrics): docs/gateway.md

Examples:
  weightbridge keys create -c gateway.yaml --name support-bot
  weightbridge gateway -c gateway.yaml
  curl http://127.0.0.1:8080/v1/chat/completions -H "Authorization: Bearer wb_…" -d '{"model":"support","messages":[…]}'`;

export function registerGateway(program: Command): void {
  program
    .command("gateway")
    .description("run the OpenAI-compatible gateway: data-class policy (block/reroute/redact), fallbacks, keys, audit")
    .addOption(gatewayConfigOption())
    .option("--listen <host:port>", "address to listen on (overrides listen: in the config)")
    .option("--shadow-run <name>", "store shadow pairs in one run per route named after this window (default: one per route and UTC day)", shadowWindow)
    .addHelpText("after", GATEWAY_HELP)
    .action(gatewayAction);

  const keys = program.command("keys").description("API keys for the gateway (only a hash is stored)").enablePositionalOptions();
  keys
    .command("create")
    .description("create a key and print it once")
    .addOption(gatewayConfigOption())
    .requiredOption("--name <name>", "a unique name for the key (shows in the audit trail)")
    .option("--routes <routes>", "only these routes (comma-separated)", list)
    .option("--rpm <n>", "requests per minute (429 with Retry-After beyond it)", positiveInt)
    .option("--tpm <n>", "tokens per minute (estimated before, settled from metered usage)", positiveInt)
    .option("--budget-usd <usd>", "USD budget: tokens × the deployments' prices; 429 once spent", positiveNumber)
    .option("--json", 'print {"name", "key"}')
    .action(keysCreateAction);
  keys.command("list").addOption(gatewayConfigOption()).option("--json", "print the keys (names and limits, never the keys)").action(keysListAction);
  keys.command("revoke <name>").addOption(gatewayConfigOption()).action(keysRevokeAction);

  program
    .command("audit")
    .description("the gateway's audit trail: one row per request (classes as counts, never values)")
    .addOption(gatewayConfigOption())
    .option("--since <time>", "only rows at or after this ISO time")
    .option("--key <name>", "only this key's requests")
    .option("--by <group>", "metering totals per key, deployment or route instead of rows")
    .option("--json", "print an array of rows (with --by: of totals)")
    .action(auditAction);
}

/** Open the gateway config's store, run `work` with it, close it whatever happens. */
async function withGatewayStore<T>(
  configFile: string,
  work: (config: Awaited<ReturnType<typeof openGatewayStore>>["config"], store: import("../store/index.js").StoreHandle) => Promise<T>,
): Promise<T> {
  const { config, store } = await openGatewayStore(configFile);
  try {
    return await work(config, store);
  } finally {
    await store.close();
  }
}

/**
 * `gateway`: serve until SIGINT/SIGTERM, on the main thread with V8's default heap. (It ran on a
 * worker thread with a 96 MiB young generation and 256 MiB of old-generation room while every
 * request's state was promoted by a getter-literal Reply (net/server.ts, ServerReply); without that,
 * V8's defaults give the same CPU and p99 at ~40% less memory: bench/README.md.)
 */
async function gatewayAction(o: { config: string; listen?: string; shadowRun?: string }): Promise<void> {
  const { config, store } = await openGatewayStore(o.config);
  const { startGateway } = await import("../gateway/index.js");
  const listen = o.listen ?? config.listen;
  const i = listen.lastIndexOf(":");
  const gw = await startGateway({
    config,
    store,
    host: listen.slice(0, i).replace(/^\[|\]$/g, ""),
    port: Number(listen.slice(i + 1)),
    configPath: resolve(o.config),
    ...(o.shadowRun ? { shadowRun: o.shadowRun } : {}),
  }).catch(async (e) => {
    await store.close();
    throw e;
  });
  say(`weightbridge gateway on ${gw.url}/v1 — routes: ${config.routes.map((r) => `${r.model} → ${r.targets.join(" > ")} (${r.onSensitive})`).join("; ")}`);
  warn("Ctrl-C to stop.");
  await stopRequested();
  await gw.close();
  await store.close();
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopRequested(): Promise<void> {
  return new Promise<void>((r) => {
    process.once("SIGINT", () => r());
    process.once("SIGTERM", () => r());
  });
}

interface KeyCreateFlags {
  config: string;
  name: string;
  routes?: string[];
  rpm?: number;
  tpm?: number;
  budgetUsd?: number;
  json?: boolean;
}

/** `keys create`: check the routes and the name, store the new key's hash, print the key once. */
async function keysCreateAction(o: KeyCreateFlags): Promise<void> {
  await withGatewayStore(o.config, async (config, store) => {
    const [{ insertKey, listKeys }, { hashKey }] = await Promise.all([import("../store/index.js"), import("../gateway/index.js")]);
    for (const r of o.routes ?? [])
      if (!config.routes.some((x) => x.model === r))
        throw new UserError(`--routes: no route "${r}"`, `routes: ${config.routes.map((x) => x.model).join(", ")}`);
    if ((await listKeys(store.db)).some((k) => k.name === o.name))
      throw new UserError(`a key named "${o.name}" exists`, "choose another name, or revoke it first");
    const key = `wb_${randomBytes(24).toString("base64url")}`;
    await insertKey(store.db, {
      name: o.name,
      keyHash: hashKey(key),
      routes: o.routes ?? null,
      rpm: o.rpm ?? null,
      tpm: o.tpm ?? null,
      budgetUsd: o.budgetUsd ?? null,
    });
    if (o.json) printJson({ name: o.name, key });
    else say(`${key}\n(shown once: only its hash is stored)`);
  });
}

async function keysListAction(o: { config: string; json?: boolean }): Promise<void> {
  await withGatewayStore(o.config, async (_config, store) => {
    const { listKeys } = await import("../store/index.js");
    const rows = (await listKeys(store.db)).map(({ keyHash: _, ...k }) => k);
    if (o.json) return printJson(rows);
    say(
      renderTable(
        ["name", "routes", "created", "revoked"],
        rows.map((k) => [k.name, k.routes?.join(",") ?? "all", k.createdAt.slice(0, 19), k.revokedAt?.slice(0, 19) ?? ""]),
      ),
    );
  });
}

async function keysRevokeAction(name: string, o: { config: string }): Promise<void> {
  await withGatewayStore(o.config, async (_config, store) => {
    const { revokeKey } = await import("../store/index.js");
    if (!(await revokeKey(store.db, name))) throw new UserError(`no active key named "${name}"`, "see `weightbridge keys list`");
    say(`revoked ${name}`);
  });
}

type AuditFlags = { config: string; since?: string; key?: string; by?: string; json?: boolean };

/** `audit`: rows (or, with --by, metering totals per group) as a table or JSON. */
async function auditAction(o: AuditFlags): Promise<void> {
  if (o.by && !["key", "deployment", "route"].includes(o.by)) throw new UserError(`--by must be key, deployment or route (got "${o.by}")`);
  await withGatewayStore(o.config, async (_config, store) => {
    const { listAudit, summariseAudit } = await import("../store/index.js");
    const filter = { ...(o.since ? { since: o.since } : {}), ...(o.key ? { key: o.key } : {}) };
    if (o.by) {
      const totals = await summariseAudit(store.db, o.by as "key" | "deployment" | "route", filter);
      return o.json ? printJson(totals) : say(auditTotalsTable(o.by, totals));
    }
    const rows = await listAudit(store.db, filter);
    return o.json ? printJson(rows) : say(auditRowsTable(rows));
  });
}

type StoreIndex = typeof import("../store/index.js");

function auditTotalsTable(by: string, totals: Awaited<ReturnType<StoreIndex["summariseAudit"]>>): string {
  return renderTable(
    [by, "requests", "blocked", "failed", "input tokens", "output tokens", "cost USD"],
    totals.map((t) => [
      t.group ?? "—",
      String(t.requests),
      String(t.blocked),
      String(t.failed),
      String(t.inputTokens),
      String(t.outputTokens),
      t.costUsd.toFixed(6),
    ]),
  );
}

const classCounts = (classes: Record<string, number>) =>
  Object.entries(classes)
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");

function auditRowsTable(rows: Awaited<ReturnType<StoreIndex["listAudit"]>>): string {
  return renderTable(
    ["time", "key", "route", "deployment", "action", "status", "classes", "in answer", "tokens"],
    rows.map((r) => [
      r.time.slice(0, 19),
      r.key_name ?? "—",
      r.route ?? "—",
      r.deployment ?? "—",
      r.action,
      String(r.status),
      classCounts(r.classes),
      classCounts(r.response_classes ?? {}),
      r.input_tokens === null ? "—" : `${r.input_tokens}/${r.output_tokens}`,
    ]),
  );
}
