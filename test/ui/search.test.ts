/**
 * Case search through the full-text index must answer exactly what the scan answers (a case-insensitive
 * substring of the input messages, the output or the case id), whatever the query holds: FTS syntax
 * (quotes, *, OR, NEAR, column filters), short queries, terms too common for the index, a run that
 * changed after it was indexed. Real SQLite store, real HTTP to the UI server.
 */
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResultRecord } from "../../src/records/index.js";
import { createRun, finishRun, openStore, type StoreHandle, saveResults } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { CAP } from "../../src/ui/server/search.js";
import { packagePath } from "../../src/util/package-root.js";
import { tempDir } from "../support/project.js";
import { resultRecord } from "../support/result-record.js";

const SPECIAL = ['say "hi" OR bye', "NEAR(a b)", "col: value*", "-minus ^caret", "Ünïcode ÄÖ", "50% off_sale \\ back"];
const CASES = Math.ceil((CAP + 500) / 2);

function row(caseIndex: number, modelId: string, output: string): ResultRecord {
  return resultRecord({ runId: "s1", caseIndex, modelId, messages: [{ role: "user", content: `question number ${caseIndex}` }], output });
}

let store: StoreHandle;
let app: FastifyInstance;
let base: string;
const texts: ResultRecord[] = [];

beforeAll(async () => {
  store = await openStore(join(tempDir("wb-ui-search-"), "s.sqlite"));
  const plan = { suites: [{ name: "s", cases: [] }], models: [{ config: { id: "a" } }, { config: { id: "b" } }], baseline: "a", repeat: 1 };
  await createRun(store.db, { id: "s1", kind: "eval", configPath: "/x.yaml", plan });
  for (let i = 0; i < CASES; i++)
    for (const m of ["a", "b"]) texts.push(row(i, m, i < SPECIAL.length ? (SPECIAL[i] as string) : `common answer ${m}${i} Zebra${i % 97}`));
  await saveResults(store.db, texts);
  await finishRun(store.db, "s1", "completed");
  app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 60_000);
afterAll(async () => {
  await app?.close();
  await store?.close();
});

interface Page {
  total: number | null;
  hasMore: boolean;
  search?: { index: string; done?: number };
  rows: { caseIndex: number; model: string }[];
}
const search = async (q: string, limit = 500): Promise<Page> => {
  const r = await fetch(`${base}/api/v1/runs/s1/cases?q=${encodeURIComponent(q)}&limit=${limit}`);
  expect(r.status).toBe(200);
  return (await r.json()) as Page;
};
/** The scan's meaning, computed here: ASCII case-insensitive substring of messages JSON, output or case id; in page order. */
const lower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const expected = (q: string, limit = Number.POSITIVE_INFINITY) =>
  texts
    .filter((r) => [JSON.stringify(r.messages), r.output ?? "", r.caseId].some((t) => lower(t).includes(lower(q))))
    .sort((x, y) => x.caseIndex - y.caseIndex || (x.modelId < y.modelId ? -1 : 1))
    .slice(0, limit)
    .map((r) => `${r.caseIndex}/${r.modelId}`)
    .sort();
const got = (p: Page) => p.rows.map((r) => `${r.caseIndex}/${r.model}`).sort();

async function untilReady(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await search("zzz-warm", 1)).search?.index === "ready") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the search index was not built");
}

describe("case search with the full-text index", () => {
  it("indexes a finished run on its first search (answering by scan meanwhile), then answers from the index", async () => {
    const first = await search("Zebra5");
    expect(first.search?.index).toBe("building");
    expect(first.total).toBeNull();
    await untilReady();
    const again = await search("Zebra5");
    expect(again.search?.index).toBe("ready");
    expect(again.total).toBe(expected("Zebra5").length);
  });

  it("answers what the scan answers, FTS syntax and case included", async () => {
    await untilReady();
    for (const q of [...SPECIAL, '"hi"', "near(", "OR bye", "ünïcode", "ZEBRA96", "answer b1234 ", "number 1234", "s#77", "50% off", "\\ back", '"', "zz"]) {
      const p = await search(q);
      expect(got(p), q).toEqual(expected(q, 500));
    }
  });

  it("scans for terms too common for the index, still exactly", async () => {
    await untilReady();
    const p = await search("common answer", 100);
    expect(p.total).toBeNull();
    expect(p.hasMore).toBe(true);
    expect(p.rows).toHaveLength(100);
    expect(p.rows.every((r) => expected("common answer").includes(`${r.caseIndex}/${r.model}`))).toBe(true);
  });

  it("re-indexes a run whose results changed after it was indexed", async () => {
    await untilReady();
    expect((await search("brand-new-text")).rows).toHaveLength(0);
    const added = row(CASES, "a", "brand-new-text here");
    texts.push(added);
    await saveResults(store.db, [added]);
    await finishRun(store.db, "s1", "completed");
    await untilReady();
    const p = await search("brand-new-text");
    expect(p.search?.index).toBe("ready");
    expect(got(p)).toEqual([`${CASES}/a`]);
  });

  it("builds the index in the store's worker thread: the server's connection writes none of it, and answers while it builds", async () => {
    const rows: ResultRecord[] = [];
    for (let i = 0; i < 10_000; i++) for (const m of ["a", "b"]) rows.push({ ...row(i, m, `worker answer ${m}${i}`), runId: "w1" });
    const plan = { suites: [{ name: "s", cases: [] }], models: [{ config: { id: "a" } }, { config: { id: "b" } }], baseline: "a", repeat: 1 };
    await createRun(store.db, { id: "w1", kind: "eval", configPath: "/x.yaml", plan });
    await saveResults(store.db, rows);
    await finishRun(store.db, "w1", "completed");
    const small = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui"), searchBatch: 100 });
    const url = `http://127.0.0.1:${(small.server.address() as { port: number }).port}/api/v1/runs/w1/cases?limit=5&q=`;
    const sq = store.sqlite;
    if (!sq) throw new Error("a SQLite store");
    const changes = () => (sq.prepare("select total_changes() as n").get() as { n: number }).n;
    try {
      const before = changes();
      const states: { index: string; done?: number; total?: number }[] = [];
      for (let i = 0; i < 2000; i++) {
        const p = (await (await fetch(`${url}${encodeURIComponent("answer b9999")}`)).json()) as Page & { search: { index: string; total?: number } };
        expect(p.rows.map((r) => `${r.caseIndex}/${r.model}`)).toEqual(["9999/b"]);
        states.push(p.search);
        if (p.search.index !== "building") break;
      }
      expect(states.at(-1)?.index).toBe("ready");
      expect(states[0]).toMatchObject({ index: "building", total: 20_000 });
      // Answered while the worker was between its first and last batch.
      expect(states.some((s) => s.index === "building" && (s.done ?? 0) > 0 && (s.done ?? 0) < 20_000)).toBe(true);
      // 20,000 rows went into results_fts, none through the server's connection (its own writes: a few rows of totals).
      expect(changes() - before).toBeLessThan(50);
      expect((sq.prepare("select count(*) as n from results_fts where results_fts match '\"worker answer\"'").get() as { n: number }).n).toBe(20_000);
    } finally {
      await small.close();
    }
  });
});

describe("a search index that cannot be built", () => {
  it("says why, and search still answers exactly (by scan)", async () => {
    const own = await openStore(join(tempDir("wb-ui-search-bad-"), "s.sqlite"));
    // Something else took the index's name: the worker's inserts fail.
    own.sqlite?.exec("create table results_fts (x)");
    const plan = { suites: [{ name: "s", cases: [] }], models: [{ config: { id: "a" } }], repeat: 1 };
    await createRun(own.db, { id: "b1", kind: "eval", configPath: "/x.yaml", plan });
    await saveResults(
      own.db,
      Array.from({ length: 50 }, (_, i) => ({ ...row(i, "a", `text ${i}`), runId: "b1" })),
    );
    await finishRun(own.db, "b1", "completed");
    const server = await createUiServer({ store: own, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
    const url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/api/v1/runs/b1/cases?q=${encodeURIComponent("TEXT 4")}`;
    try {
      let p: Page & { search: { index: string; reason?: string } };
      for (let i = 0; ; i++) {
        p = (await (await fetch(url)).json()) as typeof p;
        expect(p.rows.map((r) => r.caseIndex).sort((a, b) => a - b)).toEqual([4, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
        if (p.search.index !== "building" || i > 400) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(p.search).toMatchObject({ index: "none", reason: expect.stringMatching(/^indexing failed \(.*results_fts.*\): search scans$/) });
    } finally {
      await server.close();
      await own.close();
    }
  });
});
