import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two files at a time: most of a file's time is spent waiting on the processes it starts
    // (capstan, kernels, brokers, JVMs), so two overlap well on CI's two cores (19 min instead of 28).
    maxWorkers: 2,
    // Cases of a file marked concurrent (files whose cases mostly wait on child processes) run at
    // most two at a time: CI has two cores, and each case's processes need some of them.
    maxConcurrency: 2,
  },
});
