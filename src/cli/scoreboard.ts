import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { createProgress, wantsProgress } from "../util/progress.js";
import { renderTable } from "../util/table.js";
import { positiveInt, printJson, say, warn } from "./output.js";
import { storeConfigOption, withStoreFor } from "./store-access.js";

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`expected one of: ${values.join(", ")}`);
    return v as T;
  };
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const SCOREBOARD_HELP = `
Examples:
  weightbridge scoreboard ingest --from ../shared/data/hf-trending-2026.jsonl
  weightbridge scoreboard ingest --from hub --sort downloads --limit 1000 --filter text-generation
  weightbridge scoreboard show --by country --metric downloads
  weightbridge scoreboard show --by family --since 2026-03-01 --chart families.svg
  weightbridge scoreboard show --by lab --snapshot 2026-06-01 --top 20 --json`;

const SORTS = ["downloads", "trending", "likes"] as const;
const GROUPS = ["country", "lab", "family", "uploader"] as const;
const METRICS = ["downloads", "models", "likes", "derivatives"] as const;

export function registerScoreboard(program: Command): void {
  const sb = program
    .command("scoreboard")
    .description("which model families, labs and countries are winning adoption on Hugging Face")
    .enablePositionalOptions()
    .addHelpText("after", SCOREBOARD_HELP);

  sb.command("ingest")
    .description("store a timestamped snapshot: from the Hub's /api/models, or from a JSONL file")
    .requiredOption("--from <hub|FILE>", '"hub" or a JSONL file of Hub model objects / trending rows')
    .option("--sort <sort>", "hub: downloads | trending | likes", oneOf(SORTS), "downloads")
    .option("--limit <n>", "hub: how many models", positiveInt, 1000)
    .option("--filter <tag>", "hub: only models with this tag (e.g. text-generation)")
    .option("--author <org>", "hub: only this organisation's models")
    .addOption(storeConfigOption("write"))
    .option("--json", "print {snapshots, skipped, models}")
    .addHelpText("after", "\nHF_ENDPOINT and HF_TOKEN are respected. A snapshot is written in one transaction: an interrupted ingest leaves none.")
    .action(ingestAction);

  sb.command("show")
    .description("shares by country, lab, family or uploader; top models; movers and a time series with --since")
    .option("--by <group>", "country | lab | family | uploader", oneOf(GROUPS), "country")
    .option("--metric <metric>", "downloads | models | likes | derivatives", oneOf(METRICS), "downloads")
    .option("--snapshot <latest|DATE>", "which snapshot", "latest")
    .option("--since <DATE>", "add movers and a time series from this date to the snapshot")
    .option("--top <n>", "rows and top models to print", positiveInt, 10)
    .option("--chart <file.svg>", "write an SVG: stacked shares over time with --since, else bars")
    .addOption(storeConfigOption("read"))
    .option("--json", 'print {"snapshot", "by", "metric", "rows": [{"key", "downloads", "models", "share", …}], …} (docs/json-output.md)')
    .action(showAction);
}

interface IngestFlags {
  from: string;
  sort: (typeof SORTS)[number];
  limit: number;
  filter?: string;
  author?: string;
  config?: string;
  json?: boolean;
}

/** `scoreboard ingest`: one snapshot from the Hub (with a progress bar) or from a JSONL file, into the store. */
async function ingestAction(o: IngestFlags): Promise<void> {
  const [{ openStoreFor }, { ingestFile, ingestHub }] = await Promise.all([import("../evaluate/index.js"), import("../scoreboard/index.js")]);
  const { store } = await openStoreFor(o.config);
  const bar = createProgress("hub", o.limit, o.from === "hub" && wantsProgress(Boolean(o.json)));
  try {
    const r =
      o.from === "hub"
        ? await offlineIsUserError(() =>
            ingestHub(store, {
              sort: o.sort,
              limit: o.limit,
              ...(o.filter ? { filter: o.filter } : {}),
              ...(o.author ? { author: o.author } : {}),
              onPage: (n, total) => bar.update(n, total),
              onRetry: (ms) => {
                if (!o.json) warn(`rate limited by the Hub; waiting ${Math.ceil(ms / 1000)} s`);
              },
            }),
          )
        : await ingestFile(store, resolve(o.from));
    bar.stop();
    if (o.json) return printJson(r);
    say(`stored ${r.snapshots} snapshot(s), ${r.models} model rows${r.skipped ? ` (${r.skipped} already stored, skipped)` : ""} in ${store.location}`);
  } finally {
    bar.stop();
    await store.close();
  }
}

interface ShowFlags {
  by: (typeof GROUPS)[number];
  metric: (typeof METRICS)[number];
  snapshot: string;
  since?: string;
  top: number;
  chart?: string;
  config?: string;
  json?: boolean;
}

type Shown = Awaited<ReturnType<typeof import("../scoreboard/index.js").showScoreboard>>;
type Counts = { downloads: number; likes: number; models: number; derivatives: number };

const metricOf = (x: Counts, metric: ShowFlags["metric"]) => (metric === "models" ? x.models : metric === "derivatives" ? x.derivatives : x[metric]);

/** `scoreboard show`: the shares of one snapshot (and movers with --since), as JSON or tables, with an SVG on request. */
async function showAction(o: ShowFlags): Promise<void> {
  const { showScoreboard } = await import("../scoreboard/index.js");
  await withStoreFor(o.config, async (store) => {
    const r = await showScoreboard(store, { by: o.by, metric: o.metric, snapshot: o.snapshot, top: o.top, ...(o.since ? { since: o.since } : {}) });
    if (o.chart) await writeChart(r, o, o.chart);
    if (o.json) return printJson(r);
    printShares(r, o);
    printMovers(r, o);
    if (o.chart) say(`Chart written to ${resolve(o.chart)}`);
  });
}

/** With --since: stacked shares over time; else bars of the snapshot's top rows. */
async function writeChart(r: Shown, o: ShowFlags, chart: string): Promise<void> {
  const { barChart, stackedShareChart } = await import("../scoreboard/index.js");
  const title = `Hugging Face ${o.metric} share by ${o.by === "country" ? "base-model country" : o.by}`;
  const svg = r.series
    ? stackedShareChart(`${title}, ${r.series.times[0]?.slice(0, 10)} to ${r.snapshot.slice(0, 10)}`, r.series.times, r.series.keys)
    : barChart(
        `${title}, ${r.snapshot.slice(0, 10)}`,
        r.rows.slice(0, o.top).map((x) => ({ key: x.key, share: x.share, value: metricOf(x, o.metric) })),
        o.metric,
      );
  writeFileSync(resolve(chart), svg);
}

function printShares(r: Shown, o: ShowFlags): void {
  say(`Snapshot ${r.snapshot} (${r.source}) — ${o.metric} by ${o.by}, base-model origin view`);
  say(
    renderTable(
      [o.by, o.metric, "share", "models", "derivatives"],
      r.rows.slice(0, o.top).map((x) => [x.key, metricOf(x, o.metric).toLocaleString("en-US"), pct(x.share), String(x.models), String(x.derivatives)]),
    ),
  );
  if (o.by === "country" || o.by === "lab") {
    say("");
    say(`By uploader (who published the file):`);
    say(
      renderTable(
        [o.by, "share"],
        r.byUploader.rows.slice(0, o.top).map((x) => [x.key, pct(x.share)]),
      ),
    );
  }
  say("");
  say(
    `Attribution: ${Object.entries(r.attribution)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")} (unknown rows are counted, never guessed)`,
  );
  say(
    `Derivatives per family: ${r.derivativesByFamily
      .slice(0, 6)
      .map((d) => `${d.family} ${d.derivatives} (+${d.firstParty} first-party)`)
      .join(", ")}`,
  );
  say(
    `Top models: ${r.topModels
      .slice(0, 5)
      .map((m) => `${m.id} (${m.family ?? "?"}, ${m.country ?? "?"})`)
      .join("; ")}`,
  );
}

function printMovers(r: Shown, o: ShowFlags): void {
  if (!r.movers) return;
  say("");
  say(`Movers since ${r.movers.from.slice(0, 10)}:`);
  say(
    renderTable(
      [o.by, "share then", "share now", "change"],
      r.movers.rows.slice(0, o.top).map((m) => [m.key, pct(m.shareFrom), pct(m.shareTo), `${m.delta >= 0 ? "+" : ""}${(m.delta * 100).toFixed(1)} pts`]),
    ),
  );
}

/** The Hub unreachable (offline, a bad HF_ENDPOINT, a proxy refusing) is the user's to fix, not a bug. */
async function offlineIsUserError<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof Error && e.name !== "UserError" && /fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|bad port/.test(e.message)) {
      const { UserError } = await import("../util/errors.js");
      const endpoint = (process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
      throw new UserError(
        `cannot reach the Hub at ${endpoint} (${e.message.replace(/\s+/g, " ")})`,
        "check the network, HF_ENDPOINT and HTTPS_PROXY / NO_PROXY; or ingest a JSONL file with --from FILE",
      );
    }
    throw e;
  }
}
