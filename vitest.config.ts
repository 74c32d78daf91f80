import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One file at a time (vitest's default on two cores). Two at a time took the tests from ~28 to
    // ~19 min, but under that load browser, SSH and broker tests timed out or saw rebalances.
    maxWorkers: 1,
    // Cases of a file marked concurrent (files whose cases mostly wait on child processes) run at
    // most two at a time: CI has two cores, and each case's processes need some of them.
    maxConcurrency: 2,
  },
});
