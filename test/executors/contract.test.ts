/**
 * The executor contract: the same cases, run through the real scheduler at the platform level,
 * against the local executor (real processes) and the Kubernetes executor (real API server; pods
 * moved through their phases by kwok, as the test chooses with labels and annotations). Success
 * with outputs and logs, failure with its exit code, timeout, cancel, retry, and adoption after a
 * restart of the scheduler without starting anything twice. The local executor runs the cases once
 * with the Python launcher and once with Node's spawn (asserting which one started the tasks), and
 * once more with its launcher killed mid-run.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CapstanConfig } from "../../src/config/index.js";
import { LocalExecutor, type PythonStarter, type StarterKind } from "../../src/executors/local/index.js";
import { isProcessAlive } from "../../src/executors/local/process-info.js";
import type { Platform } from "../../src/wiring/index.js";
import { openHarness, type Harness } from "../support/platform-harness.js";
import type { KubeTestenv } from "../support/kube-testenv.js";
import {
  attemptPod,
  behaviourYaml,
  coreApi,
  eventually,
  kubeTestenv,
  podsOfRun,
  readPod,
  reopenPlatform,
  setAttemptLog,
  steerPod,
  testClusters,
} from "../kube/executor/kube-harness.js";

const CASE_TIMEOUT_MS = 180_000;

/** What a task does in a case. */
type Behaviour =
  | { kind: "succeed"; log: string; outputs: Record<string, unknown> }
  | { kind: "fail"; exitCode: number; log: string }
  /** Runs until the test releases it with an exit code. */
  | { kind: "wait" };

interface Attempt {
  h: Harness;
  pipelineId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
}

/** One executor as the contract sees it. */
interface Target {
  name: "local" | "kubernetes";
  configure(config: CapstanConfig): void;
  /** Checks made once the platform is open (e.g. which process starter runs). */
  opened?(platform: Platform): void;
  /** The task's fields (a YAML flow mapping body) for a behaviour. */
  task(h: Harness, behaviour: Behaviour, extra?: { keepPod?: boolean }): string;
  /** Runs after the run is created and before scheduling starts (e.g. chooses pod logs). */
  prepare(attempt: Attempt, behaviour: Behaviour): Promise<void>;
  /** Ends a waiting attempt with an exit code. */
  release(attempt: Attempt, exitCode: number): Promise<void>;
  /** Whether nothing of the attempt runs any more (process dead, pod removed). */
  stopped(attempt: Attempt): Promise<boolean>;
  /** How many times the task's command was started (processes) or its pod created (pods kept). */
  starts(attempt: Attempt): Promise<number>;
}

const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/**
 * The folder where local tasks mark their starts and find their release: open to the task's user
 * (tasks started by root run as an unprivileged user, which cannot write the test's own folder).
 */
function exchange(h: Harness): string {
  const dir = join(h.dir, "exchange");
  if (!existsSync(dir)) {
    chmodSync(h.dir, 0o711);
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
  }
  return dir;
}

/** The local executor of a platform. */
function localExecutor(platform: Platform): LocalExecutor {
  const executor = platform.executors.get("local");
  if (!(executor instanceof LocalExecutor)) throw new Error("the platform has no local executor");
  return executor;
}

/** The local executor with its tasks started by the given starter (CAPSTAN_LAUNCHER=node picks Node's spawn). */
const localTarget = (starter: StarterKind): Target => ({
  name: "local",
  configure: () => {
    if (starter === "node-spawn") process.env.CAPSTAN_LAUNCHER = "node";
    else delete process.env.CAPSTAN_LAUNCHER;
  },
  opened: (platform) => expect(localExecutor(platform).starter.kind).toBe(starter),
  task(h, behaviour) {
    switch (behaviour.kind) {
      case "succeed":
        return `command: ${JSON.stringify(`echo ${shellQuote(behaviour.log)}; echo ${shellQuote(JSON.stringify(behaviour.outputs))} > "$CAPSTAN_OUTPUT"`)}`;
      case "fail":
        return `command: ${JSON.stringify(`echo ${shellQuote(behaviour.log)} >&2; exit ${behaviour.exitCode}`)}`;
      case "wait": {
        const started = join(exchange(h), "started-$CAPSTAN_TASK_ID");
        // One release file per attempt of one run: a later run's task must not read an earlier run's exit code.
        const release = join(exchange(h), "release-$CAPSTAN_RUN_ID-$CAPSTAN_TASK_ID-$CAPSTAN_TRY");
        return `command: ${JSON.stringify(`echo "$CAPSTAN_TRY" >> "${started}"; while [ ! -f "${release}" ]; do sleep 0.1; done; exit "$(cat "${release}")"`)}`;
      }
    }
  },
  prepare: () => Promise.resolve(),
  release(a, exitCode) {
    // Written whole, then renamed: the waiting task never reads a half-written file.
    const release = join(exchange(a.h), `release-${a.runId}-${a.taskId}-${a.tryNumber}`);
    writeFileSync(`${release}.tmp`, String(exitCode));
    renameSync(`${release}.tmp`, release);
    return Promise.resolve();
  },
  async stopped(a) {
    const attempt = await a.h.platform.store.attempts.get({ runId: a.runId, taskId: a.taskId, tryNumber: a.tryNumber });
    return attempt !== undefined && attempt.pid !== null && !isProcessAlive(attempt.pid, attempt.pidStart);
  },
  starts(a) {
    const file = join(exchange(a.h), `started-${a.taskId}`);
    return Promise.resolve(existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").length : 0);
  },
});

function kubernetesTarget(env: KubeTestenv): Target {
  const core = coreApi(env, "cpu");
  const namespace = env.contexts.cpu.namespace;
  return {
    name: "kubernetes",
    configure: (config) => {
      config.clusters = testClusters(env);
    },
    task(_h, behaviour, extra = {}) {
      const keep = extra.keepPod ? { on_finish: "keep" } : {};
      const fields = "executor: kubernetes, command: [run-task]";
      switch (behaviour.kind) {
        case "succeed":
          return `${fields}, kubernetes: ${behaviourYaml({ outcome: "complete", message: JSON.stringify(behaviour.outputs) }, keep)}`;
        case "fail":
          return `${fields}, kubernetes: ${behaviourYaml({ outcome: "fail", exitCode: behaviour.exitCode }, keep)}`;
        case "wait":
          return `${fields}, kubernetes: ${behaviourYaml({ outcome: "running" }, keep)}`;
      }
    },
    async prepare(a, behaviour) {
      if (behaviour.kind === "wait") return;
      await setAttemptLog(env, namespace, attemptPod(a.pipelineId, a.runId, a.taskId, a.tryNumber), `${behaviour.log}\n`);
    },
    async release(a, exitCode) {
      const pod = attemptPod(a.pipelineId, a.runId, a.taskId, a.tryNumber);
      await eventually(`pod ${pod}`, () => readPod(core, namespace, pod));
      await steerPod(core, namespace, pod, exitCode === 0 ? { outcome: "complete" } : { outcome: "fail", exitCode });
    },
    async stopped(a) {
      return (await readPod(core, namespace, attemptPod(a.pipelineId, a.runId, a.taskId, a.tryNumber))) === undefined;
    },
    async starts(a) {
      return (await podsOfRun(core, namespace, a.runId)).filter((p) => p.metadata?.labels?.["capstan.dev/task"] === a.taskId).length;
    },
  };
}

let harness: Harness | undefined;
let second: Platform | undefined;
afterEach(async () => {
  await second?.close();
  second = undefined;
  await harness?.close();
  harness = undefined;
  delete process.env.CAPSTAN_LAUNCHER;
});

let pipelineCount = 0;

/** Opens a platform for the target, writes a one-pipeline file, triggers a run, prepares, starts. */
async function runPipeline(target: Target, tasks: (h: Harness) => Record<string, string>, behaviours: Record<string, Behaviour> = {}, first?: (a: Attempt) => Promise<void>) {
  const h = await openHarness({ start: false, configure: (config) => target.configure(config) });
  harness = h;
  target.opened?.(h.platform);
  pipelineCount += 1;
  const pipelineId = `contract-${target.name}-${pipelineCount}`;
  const body = Object.entries(tasks(h)).map(([id, fields]) => `  ${id}: { ${fields} }`).join("\n");
  h.writePipeline(`${pipelineId}.yaml`, `id: ${pipelineId}\ntasks:\n${body}\n`);
  const change = await h.platform.reloadPipelines();
  expect(change.errors.map((e) => e.message)).toEqual([]);
  const run = await h.platform.scheduler.trigger(pipelineId);
  const at = (taskId: string, tryNumber = 1): Attempt => ({ h, pipelineId, runId: run.id, taskId, tryNumber });
  for (const [taskId, behaviour] of Object.entries(behaviours)) await target.prepare(at(taskId), behaviour);
  if (first) await first(at(Object.keys(behaviours)[0] ?? ""));
  await h.platform.start();
  return { h, run, at, pipelineId };
}

const targets: { name: string; target: () => Promise<Target> }[] = [
  { name: "local (Python launcher)", target: () => Promise.resolve(localTarget("python-launcher")) },
  { name: "local (Node spawn)", target: () => Promise.resolve(localTarget("node-spawn")) },
  { name: "kubernetes", target: async () => kubernetesTarget(await kubeTestenv()) },
];

describe.each(targets)("executor contract: $name", ({ target: makeTarget }) => {
  it("runs a task to success, with its outputs and its log", { timeout: CASE_TIMEOUT_MS }, async () => {
    const target = await makeTarget();
    const behaviour: Behaviour = { kind: "succeed", log: "hello from task", outputs: { rows: 3, table: "visits" } };
    const { h, run, at } = await runPipeline(target, (h) => ({ a: target.task(h, behaviour) }), { a: behaviour });
    expect((await h.waitForRun(run.id, 120_000)).state).toBe("success");
    const ti = await h.platform.store.tasks.get({ runId: run.id, taskId: "a" });
    expect(ti).toMatchObject({ state: "success", tryNumber: 1, outputs: { rows: 3, table: "visits" } });
    const attempt = await h.platform.store.attempts.get({ runId: run.id, taskId: "a", tryNumber: 1 });
    expect(attempt).toMatchObject({ state: "success", exitCode: 0, executor: target.name });
    expect(readFileSync(attempt?.logPath ?? "", "utf8")).toContain("hello from task");
    await eventually("attempt stopped", async () => target.stopped(at("a")));
  });

  it("fails a task with its exit code and says so in the reason", { timeout: CASE_TIMEOUT_MS }, async () => {
    const target = await makeTarget();
    const behaviour: Behaviour = { kind: "fail", exitCode: 3, log: "boom: the input is empty" };
    const { h, run } = await runPipeline(target, (h) => ({ a: target.task(h, behaviour), b: `command: "true", depends_on: [a]` }), { a: behaviour });
    expect((await h.waitForRun(run.id, 120_000)).state).toBe("failed");
    expect(await h.taskStates(run.id)).toEqual({ a: "failed", b: "upstream_failed" });
    const ti = await h.platform.store.tasks.get({ runId: run.id, taskId: "a" });
    expect(ti?.reason).toMatch(/exit code 3/);
    const attempt = await h.platform.store.attempts.get({ runId: run.id, taskId: "a", tryNumber: 1 });
    expect(attempt).toMatchObject({ state: "failed", exitCode: 3 });
    expect(readFileSync(attempt?.logPath ?? "", "utf8")).toContain("boom: the input is empty");
  });

  it("kills a task that runs past its timeout and fails it with the timeout as reason", { timeout: CASE_TIMEOUT_MS }, async () => {
    const target = await makeTarget();
    const { h, run, at } = await runPipeline(target, (h) => ({ a: `${target.task(h, { kind: "wait" })}, timeout: 2s` }));
    expect((await h.waitForRun(run.id, 120_000)).state).toBe("failed");
    expect(await h.platform.store.tasks.get({ runId: run.id, taskId: "a" })).toMatchObject({ state: "failed", reason: "timed out after 2s" });
    await eventually("attempt stopped", async () => target.stopped(at("a")));
  });

  it("cancels a run: the running attempt is stopped and the task is cancelled", { timeout: CASE_TIMEOUT_MS }, async () => {
    const target = await makeTarget();
    const { h, run, at } = await runPipeline(target, (h) => ({ a: target.task(h, { kind: "wait" }) }));
    await h.waitForTask(run.id, "a", ["running"], 120_000);
    expect(await h.platform.scheduler.cancel(run.id)).toMatchObject({ state: "cancelled" });
    await eventually("attempt stopped", async () => target.stopped(at("a")));
    const attempt = await eventually("attempt ended", async () => {
      const a = await h.platform.store.attempts.get({ runId: run.id, taskId: "a", tryNumber: 1 });
      return a?.state === "failed" ? a : undefined;
    });
    expect(attempt.reason).toBe("cancelled");
    expect(await h.taskStates(run.id)).toEqual({ a: "cancelled" });
  });

  it("retries a failed attempt as a new try, which succeeds", { timeout: CASE_TIMEOUT_MS }, async () => {
    const target = await makeTarget();
    const { h, run, at } = await runPipeline(target, (h) => ({ a: `${target.task(h, { kind: "wait" })}, retries: 1, retry_delay: 0s` }));
    await h.waitForTask(run.id, "a", ["running"], 120_000);
    await target.release(at("a", 1), 1);
    await eventually("second try running", async () => {
      const ti = await h.platform.store.tasks.get({ runId: run.id, taskId: "a" });
      return ti?.tryNumber === 2 && ti.state === "running";
    }, 120_000);
    await target.release(at("a", 2), 0);
    expect((await h.waitForRun(run.id, 120_000)).state).toBe("success");
    const attempts = await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "a" });
    expect(attempts.map((a) => [a.tryNumber, a.state, a.exitCode])).toEqual([
      [1, "failed", 1],
      [2, "success", 0],
    ]);
  });

  it("adopts a running attempt after a restart of the scheduler; the run completes and nothing starts twice", { timeout: CASE_TIMEOUT_MS }, async () => {
    const target = await makeTarget();
    const { h, run, at } = await runPipeline(target, (h) => ({ a: target.task(h, { kind: "wait" }, { keepPod: true }) }));
    await h.waitForTask(run.id, "a", ["running"], 120_000);
    await eventually("task started", async () => (await target.starts(at("a"))) === 1);
    await h.platform.close();
    harness = undefined;
    second = await reopenPlatform(h, (config) => target.configure(config));
    const platform = second;
    target.opened?.(platform);
    await target.release(at("a"), 0);
    const done = await eventually("run finished", async () => {
      const r = await platform.store.runs.get(run.id);
      return r && r.state !== "running" && r.state !== "queued" ? r : undefined;
    }, 120_000);
    expect(done.state).toBe("success");
    const attempts = await platform.store.attempts.listByTask({ runId: run.id, taskId: "a" });
    expect(attempts.map((a) => [a.tryNumber, a.state])).toEqual([[1, "success"]]);
    expect(await target.starts(at("a"))).toBe(1);
  });
});

describe("executor contract: local, the launcher killed mid-run", () => {
  it("keeps running attempts tracked to their end, restarts the launcher, and launches new attempts", { timeout: CASE_TIMEOUT_MS }, async () => {
    const target = localTarget("python-launcher");
    const { h, run, at, pipelineId } = await runPipeline(target, (h) => ({ a: target.task(h, { kind: "wait" }), b: target.task(h, { kind: "wait" }) }));
    await h.waitForTask(run.id, "a", ["running"], 120_000);
    await h.waitForTask(run.id, "b", ["running"], 120_000);
    const starter = localExecutor(h.platform).starter as PythonStarter;
    const killed = starter.pid;
    expect(killed).toBeDefined();
    process.kill(killed ?? 0, "SIGKILL");
    await eventually("a new launcher", () => starter.pid !== undefined && starter.pid !== killed);
    await target.release(at("a"), 0);
    await target.release(at("b"), 4);
    expect((await h.waitForRun(run.id, 120_000)).state).toBe("failed");
    expect(await h.taskStates(run.id)).toEqual({ a: "success", b: "failed" });
    const attempts = await h.platform.store.attempts.listByTask({ runId: run.id, taskId: "b" });
    expect(attempts.map((a) => [a.tryNumber, a.state, a.exitCode])).toEqual([[1, "failed", 4]]);
    // A new run launches through the new launcher.
    const next = await h.platform.scheduler.trigger(pipelineId);
    await h.waitForTask(next.id, "a", ["running"], 120_000);
    await target.release({ h, pipelineId, runId: next.id, taskId: "a", tryNumber: 1 }, 0);
    await target.release({ h, pipelineId, runId: next.id, taskId: "b", tryNumber: 1 }, 0);
    expect((await h.waitForRun(next.id, 120_000)).state).toBe("success");
    expect(starter.boots).toBe(2);
  });
});
