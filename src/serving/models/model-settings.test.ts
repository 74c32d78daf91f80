/** resolveModelSettings applies server config < archive YAML < register call. */
import { expect, it } from "vitest";
import { resolveModelSettings } from "./model-settings.js";

const defaults = { workersPerModel: 4, responseTimeoutS: 120, startupTimeoutS: 120 };

it("uses the server's defaults when neither YAML nor the call says otherwise", () => {
  expect(resolveModelSettings(defaults, {}, {})).toMatchObject({ minWorkers: 4, maxWorkers: 4, batchSize: 1, maxBatchDelayMs: 100, responseTimeoutS: 120 });
});

it("the YAML overrides the server, and the call overrides the YAML", () => {
  const yaml = { minWorkers: 2, maxWorkers: 3, batchSize: 8, maxBatchDelay: 50, responseTimeout: 10, deviceType: "gpu", deviceIds: [2, 3] };
  expect(resolveModelSettings(defaults, yaml, {})).toMatchObject({ minWorkers: 2, maxWorkers: 3, batchSize: 8, maxBatchDelayMs: 50, responseTimeoutS: 10, deviceType: "gpu", deviceIds: [2, 3] });
  expect(resolveModelSettings(defaults, yaml, { initialWorkers: 1, batchSize: 4, maxBatchDelayMs: 0, responseTimeoutS: 5 })).toMatchObject({ minWorkers: 1, batchSize: 4, maxBatchDelayMs: 0, responseTimeoutS: 5 });
});
