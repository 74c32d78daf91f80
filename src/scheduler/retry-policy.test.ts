import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./retry-policy.js";

describe("retryDelayMs", () => {
  it("waits retry_delay between tries", () => {
    expect(retryDelayMs({ retryDelayMs: 10_000, retryExponentialBackoff: false, maxRetryDelayMs: null }, 3)).toBe(10_000);
  });

  it("doubles the delay per try with exponential backoff, up to max_retry_delay", () => {
    const task = { retryDelayMs: 10_000, retryExponentialBackoff: true, maxRetryDelayMs: 60_000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(task, n))).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
  });
});
