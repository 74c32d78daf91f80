/**
 * The kafka-clicks example end to end against a real broker: produce.mjs sends 250 clicks, each
 * batch becomes a run of the example pipeline, and the count tasks' outputs add up to every click.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionService } from "../../src/connections/index.js";
import { REPO_ROOT } from "../support/build.js";
import { startKafkaTestenv, type KafkaTestenv } from "../support/kafka-testenv.js";
import { openHarness, type Harness } from "../support/platform-harness.js";

let kafka: KafkaTestenv;
let h: Harness;

beforeAll(async () => {
  kafka = await startKafkaTestenv();
  h = await openHarness({ configure: (c) => (c.pipelines = [join(REPO_ROOT, "examples", "kafka-clicks")]), start: false });
  await new ConnectionService(h.platform.store, h.platform.secrets).set("default", "events", { kind: "kafka", settings: { bootstrap_servers: [kafka.bootstrap] } });
  await h.platform.start();
}, 120_000);

afterAll(async () => {
  await h?.close();
  await kafka?.close();
});

describe("the kafka-clicks example", () => {
  it("counts every produced click in the runs its batches start", { timeout: 120_000 }, async () => {
    const produced = spawnSync(process.execPath, [join(REPO_ROOT, "examples", "kafka-clicks", "produce.mjs"), kafka.bootstrap, "250"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    expect(produced.status, produced.stderr).toBe(0);
    const deadline = Date.now() + 90_000;
    let clicks = 0;
    while (Date.now() < deadline) {
      const runs = await h.platform.store.db.selectFrom("runs").select(["id", "state"]).where("pipelineId", "=", "kafka-clicks").execute();
      const tasks = await Promise.all(runs.map((r) => h.platform.store.tasks.listByRun(r.id)));
      const counted = tasks.flat().filter((t) => t.state === "success").map((t) => (t.outputs as { clicks?: number } | null)?.clicks ?? 0);
      const failed = tasks.flat().filter((t) => t.state === "failed");
      expect(failed.map((t) => t.reason)).toEqual([]);
      clicks = counted.reduce((a, b) => a + b, 0);
      if (clicks >= 250) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const keys = await h.platform.store.db.selectFrom("runs").select(["runKey"]).where("pipelineId", "=", "kafka-clicks").execute();
    expect(clicks, keys.map((k) => k.runKey).join(" ")).toBe(250);
  });
});
