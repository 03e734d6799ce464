import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { openParquet, readParquetRows } from "../../src/config/datasets/parquet-rows.js";
import { UserError } from "../../src/util/errors.js";
import { parquetBytes, qaColumns } from "../support/parquet.js";
import { tempDir } from "../support/project.js";
import { seededRng } from "../../src/stats/rng.js";
it("fuzz", async () => {
  const good = parquetBytes(qaColumns(300), { rowGroupSize: 100 });
  const dir = tempDir();
  const rng = seededRng(42);
  const kinds: Record<string, number> = {};
  let slow = 0;
  for (let t = 0; t < 600; t++) {
    const b = Buffer.from(good);
    const n = 1 + Math.floor(rng() * 8);
    for (let k = 0; k < n; k++) b[Math.floor(rng() * b.length)] = Math.floor(rng() * 256);
    const f = join(dir, `f${t}.parquet`);
    writeFileSync(f, b);
    const t0 = Date.now();
    try {
      const p = await openParquet(f);
      await readParquetRows(p, Array.from({ length: p.rows }, (_, i) => i));
      kinds.ok = (kinds.ok ?? 0) + 1;
    } catch (e) {
      const k = e instanceof UserError ? "user" : `other:${(e as Error).message.slice(0, 60)}`;
      kinds[k] = (kinds[k] ?? 0) + 1;
    }
    if (Date.now() - t0 > 1000) slow++;
  }
  console.log(kinds, "slow", slow, "rss MB", Math.round(process.memoryUsage().rss / 2 ** 20));
  expect(Object.keys(kinds).every((k) => k === "ok" || k === "user")).toBe(true);
}, 300_000);
