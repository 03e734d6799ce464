/**
 * withStoreFor, the open → work → close every store command goes through: a real SQLite file named
 * by a real config; the store is closed when the work fails, and a config that is not there is the
 * user's error (exit 2 material), not a crash.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { withStoreFor } from "../../src/cli/store-access.js";
import { listRuns, type StoreHandle } from "../../src/store/index.js";
import { isUserError, UserError } from "../../src/util/errors.js";
import { labelSuite, tempDir, twoModelConfig, writeFiles } from "../support/project.js";

function project(): string {
  const dir = tempDir();
  writeFiles(dir, {
    "suite.yaml": labelSuite("intent", 3),
    "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1", ["suite.yaml"], "store: runs.db\n"),
  });
  return dir;
}

describe("withStoreFor", () => {
  it("opens the config's store, returns the work's value, and closes the store", async () => {
    const dir = project();
    let seen: StoreHandle | undefined;
    const runs = await withStoreFor(join(dir, "weightbridge.yaml"), async (store) => {
      seen = store;
      return listRuns(store.db);
    });
    expect(runs).toEqual([]);
    expect(existsSync(join(dir, "runs.db"))).toBe(true);
    await expect(listRuns((seen as StoreHandle).db)).rejects.toThrow();
  });

  it("closes the store when the work fails, and passes the failure on unchanged", async () => {
    const dir = project();
    let seen: StoreHandle | undefined;
    const failure = new UserError("no such run", "see weightbridge runs");
    const run = withStoreFor(join(dir, "weightbridge.yaml"), async (store) => {
      seen = store;
      await listRuns(store.db);
      throw failure;
    });
    await expect(run).rejects.toBe(failure);
    await expect(listRuns((seen as StoreHandle).db)).rejects.toThrow();
  });

  it("a config that is not there is a UserError, and the work never runs", async () => {
    let ran = false;
    const e = await withStoreFor(join(tempDir(), "missing.yaml"), async () => {
      ran = true;
    }).catch((x: unknown) => x);
    expect(isUserError(e)).toBe(true);
    expect(ran).toBe(false);
  });
});
