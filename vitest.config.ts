import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default leaves one core free: on CI's 2 cores that is one worker, and the suite spent
    // most of its time waiting on child processes and sockets with one core idle (655 s; 420 s with two).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    env: { CI: "true" },
  },
});
