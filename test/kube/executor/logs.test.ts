/**
 * Logs of pods: streamed into the attempt's log file while the pod runs (lines added later arrive
 * too), complete and without duplicates after the pod ended and was deleted, kept when the pod is
 * deleted from outside, and rebuilt from the API server after a restart of the scheduler.
 */
import { appendFile, readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Platform } from "../../../src/wiring/index.js";
import { setPodLog, toCriLog } from "../../support/kube-testenv.js";
import type { Harness } from "../../support/platform-harness.js";
import { attemptPod, behaviourYaml, coreApi, eventually, openKubePipeline, reopenPlatform, steerPod, testClusters, waitForPod, waitForPodGone } from "./kube-harness.js";

const TIMEOUT_MS = 180_000;

let harness: Harness | undefined;
let second: Platform | undefined;
afterEach(async () => {
  await second?.close();
  second = undefined;
  await harness?.close();
  harness = undefined;
});

async function startWithLog(text: string, fields = "") {
  const p = await openKubePipeline(`  a: { command: [train], ${fields}kubernetes: ${behaviourYaml({ outcome: "running" })} }\n`);
  harness = p.h;
  expect(p.errors).toEqual([]);
  const run = await p.h.platform.scheduler.trigger(p.pipelineId);
  const namespace = p.env.contexts.cpu.namespace;
  const pod = attemptPod(p.pipelineId, run.id, "a");
  const file = await setPodLog(p.env, { namespace, pod, text });
  await p.h.platform.start();
  const core = coreApi(p.env);
  await waitForPod(core, namespace, pod, (x) => x.status?.phase === "Running");
  const logPath = (await p.h.platform.store.attempts.get({ runId: run.id, taskId: "a", tryNumber: 1 }))?.logPath ?? "";
  const logText = () => readFile(logPath, "utf8").catch(() => "");
  return { ...p, run, core, namespace, pod, file, logPath, logText };
}

describe("pod logs", () => {
  it("streams the log while the pod runs and keeps it complete, each line once, after the pod is deleted", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, core, namespace, pod, file, logText } = await startWithLog("epoch 1 loss 0.91\nepoch 2 loss 0.55\n");
    await eventually("first lines streamed", async () => (await logText()).includes("epoch 2 loss 0.55"));
    await appendFile(file, toCriLog("epoch 3 loss 0.31\n"));
    await eventually("a line written later streamed", async () => (await logText()).includes("epoch 3"));
    await appendFile(file, toCriLog("saved model to /data/model-3\n"));
    await steerPod(core, namespace, pod, { outcome: "complete" });
    expect((await h.waitForRun(run.id, 150_000)).state).toBe("success");
    await waitForPodGone(core, namespace, pod);
    expect(await logText()).toBe("epoch 1 loss 0.91\nepoch 2 loss 0.55\nepoch 3 loss 0.31\nsaved model to /data/model-3\n");
  });

  it("keeps what was streamed when the pod is deleted from outside", { timeout: TIMEOUT_MS }, async () => {
    const { h, run, core, namespace, pod, logText } = await startWithLog("loading 10000 rows\n");
    await eventually("line streamed", async () => (await logText()).includes("loading 10000 rows"));
    await core.deleteNamespacedPod({ namespace, name: pod });
    await h.waitForRun(run.id, 150_000);
    const text = await logText();
    expect(text.startsWith("loading 10000 rows\n")).toBe(true);
    expect(text).toMatch(/capstan: attempt 1 of a ended \(lost\): lost: pod .* was deleted outside Capstan/);
  });

  it("rebuilds the log from the API server after a restart, without duplicates", { timeout: TIMEOUT_MS }, async () => {
    const { h, env, run, core, namespace, pod, file, logText } = await startWithLog("part 1\n");
    await eventually("line streamed", async () => (await logText()).includes("part 1"));
    await h.platform.close();
    harness = undefined;
    await appendFile(file, toCriLog("part 2\n"));
    second = await reopenPlatform(h, (config) => {
      config.clusters = testClusters(env);
      config.defaultExecutor = "kubernetes";
    });
    await eventually("line streamed after the restart", async () => (await logText()).includes("part 2"));
    await steerPod(core, namespace, pod, { outcome: "complete" });
    const platform = second;
    await eventually("run finished", async () => (await platform.store.runs.get(run.id))?.state === "success", 120_000);
    expect(await logText()).toBe("part 1\npart 2\n");
  });
});
