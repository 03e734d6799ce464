/**
 * The web app in Debian's Chromium over a real store: runs list, a run, changed cases, a case with
 * its diff, compare, red-team, gateway and scoreboard pages. Each page: visible content asserted,
 * no console error, no request to anything but the app's own origin; screenshots in
 * test/ui/.screens/ (and the README's two in docs/img/ when WB_UI_DOC_SHOTS=1).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type StoreHandle } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { packagePath } from "../../src/util/package-root.js";
import { buildUiFixture, type UiFixture } from "./fixture.js";

const SHOTS = join(import.meta.dirname, ".screens");
let fx: UiFixture;
let store: StoreHandle;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  fx = await buildUiFixture(60);
  store = await openStore(fx.db);
  app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("request", (r) => {
    if (!r.url().startsWith(`${base}/`)) problems.push(`request left the origin: ${r.url()}`);
  });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await store?.close();
});

async function shot(name: string, doc?: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  if (doc && process.env.WB_UI_DOC_SHOTS === "1") await page.screenshot({ path: packagePath("docs", "img", doc), fullPage: false });
}

function clean() {
  expect(problems, problems.join("\n")).toEqual([]);
}

describe("the web app in Chromium", { timeout: 120_000 }, () => {
  it("lists runs and opens a run's adoption view with its charts", async () => {
    await page.goto(`${base}/`);
    await page.getByRole("link", { name: fx.evalA }).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(3);
    expect(await page.locator("main").innerText()).toMatch(/redteam/);
    await shot("runs");
    await page.getByRole("link", { name: fx.evalA }).click();
    await page.getByText("Adoption vs alpha").waitFor();
    expect(page.url()).toBe(`${base}/runs/${fx.evalA}`);
    const text = await page.locator("main").innerText();
    expect(text).toMatch(/beta/);
    expect(text).toMatch(/adopt|reject|inconclusive/);
    expect(await page.locator(".chart canvas").count()).toBeGreaterThanOrEqual(2);
    await shot("run", "ui-run.png");
    clean();
  });

  it("filters the changed cases and opens a case with the word diff against the baseline", async () => {
    const expected = (await (await fetch(`${base}/api/v1/runs/${fx.evalA}/cases?model=beta&filter=regressions`)).json()) as { total: number };
    await page.getByRole("link", { name: /worse/ }).first().click();
    await page.waitForURL(/filter=regressions/);
    await page.getByText(`${expected.total} rows`).waitFor();
    const rows = page.locator(".vrow");
    await rows.first().locator("a").waitFor();
    expect(await rows.count()).toBe(expected.total);
    for (const t of await rows.allInnerTexts()) expect(t).toMatch(/beta\s*regression/);
    await shot("cases-regressions");
    await rows.first().locator("a").click();
    await page.getByText("Messages sent").waitFor();
    expect(page.url()).toMatch(/\/cases\/intent\/\d+$/);
    expect(await page.locator(".output").count()).toBe(3);
    expect(await page.locator(".diff ins, .diff del").count()).toBeGreaterThan(0);
    await shot("case", "ui-case-diff.png");
    clean();
  });

  it("renders hostile model outputs as inert text", async () => {
    await page.goto(`${base}/runs/${fx.evalA}/cases?model=hostile`);
    await page.locator(".vrow a").first().waitFor();
    await page.locator(".vrow a").first().click();
    await page.getByText("Messages sent").waitFor();
    const main = page.locator("main");
    expect(await main.innerText()).toContain("<script>window.__xss=1</script>");
    expect(await main.innerText()).toContain("\\x1b[31mRED\\x1b[0m");
    expect(await main.innerText()).toContain("[click me](javascript:window.__xss=3)");
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await main.locator("script, img, a[href^='javascript']").count()).toBe(0);
    // The app's own <b> labels name message roles; the output's <b>bold</b> must stay text.
    expect(await main.locator("b", { hasText: "bold" }).count()).toBe(0);
    expect(await main.innerText()).toContain("<b>bold</b>");
    await shot("hostile");
    clean();
  });

  it("compares two runs, and shows the red-team, gateway and scoreboard pages", async () => {
    await page.goto(`${base}/compare?a=${fx.evalA}&b=${fx.evalB}`);
    await page.getByText("B − A per model").waitFor();
    expect(await page.locator("tbody tr").first().innerText()).toMatch(/alpha\s+60/);
    await shot("compare");
    await page.goto(`${base}/runs/${fx.redteam}/redteam`);
    await page.getByText("Attack success rate per pack").waitFor();
    expect(await page.locator("main").innerText()).toMatch(/system-prompt-leak\s+echo\s+\d+\s+\d+\s+100\.0%/);
    await page.getByRole("link", { name: "show" }).first().click();
    await page.locator(".transcript").first().waitFor();
    await shot("redteam");
    await page.goto(`${base}/gateway?bucket=minute`);
    await page.getByText("4 requests since").waitFor();
    const g = await page.locator("main").innerText();
    expect(g).toMatch(/blocked/);
    expect(g).toMatch(/bot\s+3/);
    expect(await page.locator(".chart canvas").count()).toBe(3);
    await shot("gateway");
    await page.goto(`${base}/scoreboard`);
    await page.getByText("No snapshots stored yet").waitFor();
    await page.goto(`${base}/artifacts`);
    await page.getByText("No scans or locks are kept in this store yet.").waitFor();
    clean();
  });

  it("a run without a kept Report shows the build's progress and fills in when it is ready", async () => {
    // A store from before eval kept Reports: the server builds it (in a child) at the first visit.
    store.sqlite?.prepare("delete from run_reports where run_id = ?").run(fx.evalB);
    const slow = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui"), reportGraceMs: 0, reportInChildAbove: 0 });
    const origin = `http://127.0.0.1:${(slow.server.address() as { port: number }).port}`;
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const answers: { building: boolean; report: boolean }[] = [];
    p.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    p.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    p.on("request", (r) => {
      if (!r.url().startsWith(`${origin}/`)) problems.push(`request left the origin: ${r.url()}`);
    });
    p.on("response", async (r) => {
      if (!r.url().endsWith(`/api/v1/runs/${fx.evalB}`)) return;
      const b = (await r.json()) as { report: unknown; reportBuilding?: unknown };
      answers.push({ building: b.reportBuilding !== undefined, report: Boolean(b.report) });
    });
    try {
      await p.goto(`${origin}/runs/${fx.evalB}`);
      await p.getByText("Building the report").waitFor();
      await p.screenshot({ path: join(SHOTS, "run-building.png"), fullPage: true });
      await p.getByText("Adoption vs alpha").waitFor({ timeout: 60_000 });
      expect(await p.getByText("Building the report").count()).toBe(0);
      expect(await p.locator(".chart canvas").count()).toBeGreaterThanOrEqual(2);
      // The page asked once, was told "building", and asked again until the Report came (no reload).
      expect(answers[0]).toEqual({ building: true, report: false });
      expect(answers.at(-1)).toEqual({ building: false, report: true });
      await p.screenshot({ path: join(SHOTS, "run-built.png"), fullPage: true });
      clean();
    } finally {
      await p.close();
      await slow.close();
    }
  });
});
