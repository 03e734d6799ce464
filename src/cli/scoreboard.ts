import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { createProgress, wantsProgress } from "../util/progress.js";
import { renderTable } from "../util/table.js";
import { positiveInt, printJson, say, warn } from "./output.js";

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`expected one of: ${values.join(", ")}`);
    return v as T;
  };
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function registerScoreboard(program: Command): void {
  const sb = program
    .command("scoreboard")
    .description("which model families, labs and countries are winning adoption on Hugging Face")
    .enablePositionalOptions()
    .addHelpText(
      "after",
      `
Examples:
  weightbridge scoreboard ingest --from ../shared/data/hf-trending-2026.jsonl
  weightbridge scoreboard ingest --from hub --sort downloads --limit 1000 --filter text-generation
  weightbridge scoreboard show --by country --metric downloads
  weightbridge scoreboard show --by family --since 2026-03-01 --chart families.svg
  weightbridge scoreboard show --by lab --snapshot 2026-06-01 --top 20 --json`,
    );

  sb.command("ingest")
    .description("store a timestamped snapshot: from the Hub's /api/models, or from a JSONL file")
    .requiredOption("--from <hub|FILE>", '"hub" or a JSONL file of Hub model objects / trending rows')
    .option("--sort <sort>", "hub: downloads | trending | likes", oneOf(["downloads", "trending", "likes"] as const), "downloads")
    .option("--limit <n>", "hub: how many models", positiveInt, 1000)
    .option("--filter <tag>", "hub: only models with this tag (e.g. text-generation)")
    .option("--author <org>", "hub: only this organisation's models")
    .option("-c, --config <file>", "config whose store to write (or set WEIGHTBRIDGE_DATABASE_URL)")
    .option("--json", "print {snapshots, skipped, models}")
    .addHelpText("after", "\nHF_ENDPOINT and HF_TOKEN are respected. A snapshot is written in one transaction: an interrupted ingest leaves none.")
    .action(
      async (o: {
        from: string;
        sort: "downloads" | "trending" | "likes";
        limit: number;
        filter?: string;
        author?: string;
        config?: string;
        json?: boolean;
      }) => {
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
      },
    );

  sb.command("show")
    .description("shares by country, lab, family or uploader; top models; movers and a time series with --since")
    .option("--by <group>", "country | lab | family | uploader", oneOf(["country", "lab", "family", "uploader"] as const), "country")
    .option("--metric <metric>", "downloads | models | likes | derivatives", oneOf(["downloads", "models", "likes", "derivatives"] as const), "downloads")
    .option("--snapshot <latest|DATE>", "which snapshot", "latest")
    .option("--since <DATE>", "add movers and a time series from this date to the snapshot")
    .option("--top <n>", "rows and top models to print", positiveInt, 10)
    .option("--chart <file.svg>", "write an SVG: stacked shares over time with --since, else bars")
    .option("-c, --config <file>", "config whose store to read (or set WEIGHTBRIDGE_DATABASE_URL)")
    .option("--json", 'print {"snapshot", "by", "metric", "rows": [{"key", "downloads", "models", "share", …}], …} (docs/json-output.md)')
    .action(
      async (o: {
        by: "country" | "lab" | "family" | "uploader";
        metric: "downloads" | "models" | "likes" | "derivatives";
        snapshot: string;
        since?: string;
        top: number;
        chart?: string;
        config?: string;
        json?: boolean;
      }) => {
        const [{ openStoreFor }, { showScoreboard }, { barChart, stackedShareChart }] = await Promise.all([
          import("../evaluate/index.js"),
          import("../scoreboard/index.js"),
          import("../scoreboard/index.js"),
        ]);
        const { store } = await openStoreFor(o.config);
        try {
          const r = await showScoreboard(store, { by: o.by, metric: o.metric, snapshot: o.snapshot, top: o.top, ...(o.since ? { since: o.since } : {}) });
          if (o.chart) {
            const title = `Hugging Face ${o.metric} share by ${o.by === "country" ? "base-model country" : o.by}`;
            const svg = r.series
              ? stackedShareChart(`${title}, ${r.series.times[0]?.slice(0, 10)} to ${r.snapshot.slice(0, 10)}`, r.series.times, r.series.keys)
              : barChart(
                  `${title}, ${r.snapshot.slice(0, 10)}`,
                  r.rows.slice(0, o.top).map((x) => ({
                    key: x.key,
                    share: x.share,
                    value: o.metric === "models" ? x.models : o.metric === "derivatives" ? x.derivatives : x[o.metric],
                  })),
                  o.metric,
                );
            writeFileSync(resolve(o.chart), svg);
          }
          if (o.json) return printJson(r);
          const value = (x: { downloads: number; likes: number; models: number; derivatives: number }) =>
            o.metric === "models" ? x.models : o.metric === "derivatives" ? x.derivatives : x[o.metric];
          say(`Snapshot ${r.snapshot} (${r.source}) — ${o.metric} by ${o.by}, base-model origin view`);
          say(
            renderTable(
              [o.by, o.metric, "share", "models", "derivatives"],
              r.rows.slice(0, o.top).map((x) => [x.key, value(x).toLocaleString("en-US"), pct(x.share), String(x.models), String(x.derivatives)]),
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
          if (r.movers) {
            say("");
            say(`Movers since ${r.movers.from.slice(0, 10)}:`);
            say(
              renderTable(
                [o.by, "share then", "share now", "change"],
                r.movers.rows
                  .slice(0, o.top)
                  .map((m) => [m.key, pct(m.shareFrom), pct(m.shareTo), `${m.delta >= 0 ? "+" : ""}${(m.delta * 100).toFixed(1)} pts`]),
              ),
            );
          }
          if (o.chart) say(`Chart written to ${resolve(o.chart)}`);
        } finally {
          await store.close();
        }
      },
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
