/**
 * The local executor's process launching, with both starters (the Python launcher and Node's spawn):
 * one bad launch (a NUL byte) fails alone; a launcher killed mid-run is replaced and its attempts
 * still end; every process of an attempt (setsid children, double-forked daemons) is gone at its
 * end, with cgroups and with the token search; the log is capped and the task runs on.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { LaunchError, type AttemptEnd, type AttemptLaunch } from "../../src/executors/executor.js";
import { createLocalExecutor, PythonStarter, type Containment, type LocalExecutor } from "../../src/executors/local/index.js";
import { detectContainment } from "../../src/executors/local/containment.js";
import { pidsWithToken } from "../../src/executors/local/process-info.js";
import type { TaskSpec } from "../../src/pipelines/index.js";
import { tempDir } from "../support/platform-harness.js";

const PYTHON = join(process.cwd(), ".venv", "bin", "python");
const LAUNCHER = join(process.cwd(), "python", "capstan_runtime", "launcher.py");
const TIMEOUT = 60_000;

const open: LocalExecutor[] = [];
const tokensToClean: string[] = [];
afterEach(async () => {
  for (const executor of open.splice(0)) await executor.close();
  // Leave nothing running whatever a failed case did.
  for (const token of tokensToClean.splice(0)) for (const pid of await pidsWithToken(token)) process.kill(pid, "SIGKILL");
});

interface Options {
  starter: "python-launcher" | "node-spawn";
  containment?: Containment;
  maxLogBytes?: number;
}

/** A local executor and a way to run commands on it, each resolving with the attempt's end. */
async function makeExecutor(options: Options) {
  const executor = await createLocalExecutor(
    { parallelism: 32, cpu: 64, memory: 64 * 1024 ** 3, gpus: [], ...(options.maxLogBytes !== undefined ? { maxLogBytes: options.maxLogBytes } : {}) },
    {
      python: PYTHON,
      capstan: [],
      baseEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      launcherPython: options.starter === "python-launcher" ? PYTHON : null,
      logger: pino({ level: "silent" }),
      killGraceMs: 500,
      adoptedCheckMs: 100,
      ...(options.containment ? { containment: options.containment } : {}),
    },
  );
  open.push(executor);
  expect(executor.starter.kind).toBe(options.starter);
  const dir = tempDir("capstan-local-");
  const ends = new Map<string, (end: AttemptEnd) => void>();
  executor.onAttemptEnd((ref, end) => ends.get(ref.token)?.(end));
  let count = 0;
  const launch = async (command: string | string[], env: Record<string, string> = {}) => {
    count += 1;
    const token = `t${count}${Math.random().toString(16).slice(2)}`;
    tokensToClean.push(token);
    const attemptDir = join(dir, `a${count}`);
    mkdirSync(attemptDir, { recursive: true });
    const task: TaskSpec = {
      id: `task${count}`,
      kind: "command",
      command,
      args: [],
      parameters: {},
      dependsOn: [],
      triggerRule: "all_success",
      resources: { cpu: 0, memory: 0, gpu: 0 },
      retries: 0,
      retryDelayMs: 0,
      retryExponentialBackoff: false,
      maxRetryDelayMs: null,
      timeoutMs: null,
      pool: "default",
      poolSlots: 1,
      priorityWeight: 1,
      env: {},
      secrets: {},
      skipOnExitCodes: [],
      outputs: [],
    };
    const request: AttemptLaunch = {
      runId: "run",
      taskId: task.id,
      tryNumber: 1,
      token,
      pipelineId: "p",
      pipelineVersion: "1",
      task,
      baseDir: dir,
      env: { ...env, CAPSTAN_OUTPUT: join(attemptDir, "output.json"), ATTEMPT_DIR: attemptDir },
      resources: task.resources,
      attemptDir,
      logPath: join(attemptDir, "log.txt"),
      outputPath: join(attemptDir, "output.json"),
      artifactsDir: dir,
    };
    const ended = new Promise<AttemptEnd>((resolve) => ends.set(token, resolve));
    const info = await executor.launch(request);
    return { request, info, ended, token };
  };
  return { executor, dir, launch };
}

async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const starters = [{ starter: "python-launcher" as const }, { starter: "node-spawn" as const }];

describe.each(starters)("local executor processes ($starter)", ({ starter }) => {
  it("refuses a NUL byte in one launch, naming the variable, while concurrent launches all succeed; launching goes on", { timeout: TIMEOUT }, async () => {
    const { launch } = await makeExecutor({ starter });
    const good = Array.from({ length: 10 }, (_, i) => launch(`echo ok-${i}`));
    const bad = launch("echo \"$MSG\"", { MSG: "nul\u0000byte" });
    const more = Array.from({ length: 5 }, (_, i) => launch(`echo more-${i}`));
    const error = await bad.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LaunchError);
    expect((error as LaunchError).message).toMatch(/environment variable MSG contains a NUL byte/);
    expect((error as LaunchError).retryable).toBe(false);
    for (const started of await Promise.all([...good, ...more])) {
      expect(await started.ended).toMatchObject({ outcome: "success", exitCode: 0 });
    }
    const after = await launch("echo after");
    expect(await after.ended).toMatchObject({ outcome: "success" });
    expect(readFileSync(after.request.logPath, "utf8")).toBe("after\n");
    // An argument with NUL is named as such.
    await expect(launch(["printf", "a\u0000b"])).rejects.toThrow(/argument 1 of the command contains a NUL byte/);
  });

  it("leaves no process of an attempt behind when it exits: setsid children and a double-forked daemon", { timeout: TIMEOUT }, async () => {
    const { launch } = await makeExecutor({ starter });
    const leftovers = 'setsid sleep 1000 & (setsid sh -c "sleep 1001 &" &); setsid sleep 1002 >/dev/null 2>&1 & sleep 0.3; echo done';
    const attempt = await launch(leftovers);
    await eventually("the setsid children started", async () => (await pidsWithToken(attempt.token)).length >= 3 || undefined);
    expect(await attempt.ended).toMatchObject({ outcome: "success", exitCode: 0 });
    await eventually("no process of the attempt left", async () => (await pidsWithToken(attempt.token)).length === 0);
    expect(readFileSync(attempt.request.logPath, "utf8")).toContain("done");
  });

  it("leaves no process of an attempt behind when it is killed (timeout or cancel)", { timeout: TIMEOUT }, async () => {
    const { executor, launch } = await makeExecutor({ starter });
    const attempt = await launch('setsid sleep 1000 & (setsid sh -c "sleep 1001 &" &); sleep 1000');
    await eventually("the setsid children started", async () => (await pidsWithToken(attempt.token)).length >= 3 || undefined);
    await executor.kill(attempt.request, "timed out after 1s");
    expect(await attempt.ended).toMatchObject({ outcome: "failed", reason: "timed out after 1s" });
    await eventually("no process of the attempt left", async () => (await pidsWithToken(attempt.token)).length === 0);
  });

  it("cuts the log at the cap with a marker; the task runs on to its own exit status", { timeout: TIMEOUT }, async () => {
    const { launch } = await makeExecutor({ starter, maxLogBytes: 1000 });
    const attempt = await launch('head -c 5000 /dev/zero | tr "\\0" a; echo; echo late line; echo alive > "$ATTEMPT_DIR/alive"; exit 3');
    expect(await attempt.ended).toMatchObject({ outcome: "failed", exitCode: 3 });
    const log = readFileSync(attempt.request.logPath, "utf8");
    expect(log).toBe(`${"a".repeat(1000)}\n[capstan: log cut at 1000 bytes; the task went on running]\n`);
    expect(readFileSync(join(attempt.request.attemptDir, "alive"), "utf8")).toBe("alive\n");
    expect(statSync(attempt.request.logPath).mode & 0o777).toBe(0o600);
    // Under the cap nothing is added.
    const small = await launch("printf 'x%.0s' $(seq 1000)");
    expect(await small.ended).toMatchObject({ outcome: "success" });
    expect(readFileSync(small.request.logPath, "utf8")).toBe("x".repeat(1000));
  });

  it("without a cap (0), writes the output to the log as it is and ends with the command's own status", { timeout: TIMEOUT }, async () => {
    const { launch } = await makeExecutor({ starter, maxLogBytes: 0 });
    const attempt = await launch('echo out; echo err >&2; exit 5');
    expect(await attempt.ended).toMatchObject({ outcome: "failed", exitCode: 5 });
    expect(readFileSync(attempt.request.logPath, "utf8")).toBe("out\nerr\n");
    expect(readFileSync(join(attempt.request.attemptDir, "status"), "utf8").trim()).toBe("5");
  });

  it("passes each write of a capped log on at once, so a running task's log can be followed live", { timeout: TIMEOUT }, async () => {
    const { launch } = await makeExecutor({ starter, maxLogBytes: 1_000_000 });
    const attempt = await launch('echo first; while [ ! -f "$ATTEMPT_DIR/go" ]; do sleep 0.05; done; echo second');
    const logText = () => (existsSync(attempt.request.logPath) ? readFileSync(attempt.request.logPath, "utf8") : "");
    await eventually("the first line in the log while the task waits", () => logText() === "first\n");
    writeFileSync(join(attempt.request.attemptDir, "go"), "");
    expect(await attempt.ended).toMatchObject({ outcome: "success" });
    expect(logText()).toBe("first\nsecond\n");
  });
});

describe.each(starters)("local executor without cgroups: leftovers found by token ($starter)", ({ starter }) => {
  const containment: Containment = { kind: "token", why: "the test asks for it" };

  it("leaves no process behind when the attempt exits or is killed; a daemon holding the log open does not hold up the end", { timeout: TIMEOUT }, async () => {
    const { executor, launch } = await makeExecutor({ starter, containment });
    const exits = await launch('setsid sleep 1000 & (setsid sh -c "sleep 1001 &" &); sleep 0.3; echo done');
    await eventually("the setsid children started", async () => (await pidsWithToken(exits.token)).length >= 2 || undefined);
    expect(await exits.ended).toMatchObject({ outcome: "success", exitCode: 0 });
    await eventually("no process of the exited attempt left", async () => (await pidsWithToken(exits.token)).length === 0);
    expect(readFileSync(exits.request.logPath, "utf8")).toContain("done");

    const killed = await launch('setsid sleep 1000 & (setsid sh -c "sleep 1001 &" &); sleep 1000');
    await eventually("the setsid children started", async () => (await pidsWithToken(killed.token)).length >= 3 || undefined);
    await executor.kill(killed.request, "cancelled");
    expect(await killed.ended).toMatchObject({ outcome: "failed", reason: "cancelled" });
    await eventually("no process of the killed attempt left", async () => (await pidsWithToken(killed.token)).length === 0);
  });
});

describe("local executor restarted while an attempt ends", () => {
  it("kills what an attempt that ended while no scheduler ran left behind, when the next one adopts it", { timeout: TIMEOUT }, async () => {
    const containment: Containment = { kind: "token", why: "the test asks for it" };
    const first = await makeExecutor({ starter: "python-launcher", containment });
    const release = join(first.dir, "release");
    const attempt = await first.launch(`setsid sleep 1000 & while [ ! -f "${release}" ]; do sleep 0.05; done; exit 0`);
    await eventually("the setsid child started", async () => (await pidsWithToken(attempt.token)).length >= 3 || undefined);
    await first.executor.close();
    writeFileSync(release, "");
    await eventually("the status written", () => existsSync(join(attempt.request.attemptDir, "status")));
    // The child outlives its attempt while no scheduler runs.
    expect((await pidsWithToken(attempt.token)).length).toBeGreaterThan(0);
    const second = await makeExecutor({ starter: "python-launcher", containment });
    const { request } = attempt;
    const adopted = await second.executor.adopt([{ ...request, externalId: `local:${request.token}`, pid: attempt.info.pid ?? null, pidStart: attempt.info.pidStart ?? null, logPath: request.logPath, killReason: null }]);
    expect([...adopted.values()]).toMatchObject([{ status: "ended", end: { outcome: "success" } }]);
    await eventually("no process of the attempt left", async () => (await pidsWithToken(attempt.token)).length === 0);
  });
});

describe("the Python launcher", () => {
  it("answers a bad request with an error for that request alone and goes on serving", { timeout: TIMEOUT }, async () => {
    const dir = tempDir("capstan-launcher-");
    const log = (id: number) => join(dir, `log-${id}.txt`);
    const child = spawn(PYTHON, ["-I", LAUNCHER], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout });
    const messages: Record<string, unknown>[] = [];
    lines.on("line", (line) => messages.push(JSON.parse(line) as Record<string, unknown>));
    const attempt = (id: number, argv: unknown, env: unknown = {}, where: Record<string, unknown> = {}) => {
      const attemptDir = join(dir, `a${id}`);
      mkdirSync(attemptDir);
      return JSON.stringify({ id, argv, env, log: log(id), dir: attemptDir, cwd: dir, cgroup: null, max_log: 0, boundary: null, ...where });
    };
    const send = (text: string) => child.stdin.write(`${text}\n`);
    send(attempt(1, ["/bin/echo", "a\u0000b"]));
    send("not json");
    send(attempt(2, "echo"));
    send(attempt(3, ["/bin/echo", "x"], { A: "nul\u0000" }));
    // A program that is not there is the attempt's failure (as in a shell: exit code 127), not the launcher's.
    send(attempt(4, ["/no/such/program"]));
    // An attempt whose pid cannot be recorded does not run.
    send(attempt(6, ["/bin/sh", "-c", `touch ${join(dir, "ran")}`], {}, { dir: join(dir, "missing") }));
    send(attempt(7, ["/bin/echo", "x"], {}, { boundary: { mode: "user", uid: 0, gid: 0, user: null, home: dir, binds: [] } }));
    send(attempt(5, ["/bin/echo", "still serving"]));
    const started = await eventually("request 5 answered", () => messages.find((m) => m.id === 5 && typeof m.pid === "number"));
    await eventually("request 5's exit reported", () => messages.find((m) => m.exit === started.pid));
    const missing = messages.find((m) => m.id === 4);
    expect(missing).toHaveProperty("pid");
    expect(await eventually("request 4's exit reported", () => messages.find((m) => m.exit === missing?.pid))).toMatchObject({ code: 127 });
    expect(messages[0]).toMatchObject({ subreaper: true });
    expect(messages.find((m) => m.id === 1)).toHaveProperty("error", expect.stringMatching(/null byte/) as unknown);
    expect(messages.find((m) => m.id === undefined && m.error !== undefined)).toHaveProperty("error", expect.stringMatching(/JSON/) as unknown);
    expect(messages.find((m) => m.id === 2)).toHaveProperty("error", expect.stringMatching(/argv/) as unknown);
    expect(messages.find((m) => m.id === 3)).toHaveProperty("error", expect.stringMatching(/null byte/) as unknown);
    expect(messages.find((m) => m.id === 6)).toHaveProperty("error", expect.stringMatching(/No such file/) as unknown);
    expect(messages.find((m) => m.id === 7)).toHaveProperty("error", expect.stringMatching(/root/) as unknown);
    expect(readFileSync(log(4), "utf8")).toBe("capstan: /no/such/program: No such file or directory\n");
    expect(readFileSync(log(5), "utf8")).toBe("still serving\n");
    expect(existsSync(join(dir, "ran"))).toBe(false);
    expect(statSync(log(5)).mode & 0o777).toBe(0o600);
    expect(child.exitCode).toBeNull();
    child.stdin.end();
    await new Promise((resolve) => child.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("is replaced when killed mid-run: its running attempts still end with their status, new launches work, and writes to the dead one do not crash", { timeout: TIMEOUT }, async () => {
    const { executor, dir, launch } = await makeExecutor({ starter: "python-launcher" });
    const launcher = executor.starter as PythonStarter;
    const release = join(dir, "release");
    const running = await Promise.all([0, 1, 2].map((i) => launch(`while [ ! -f "${release}" ]; do sleep 0.05; done; exit ${i}`)));
    const firstPid = launcher.pid;
    expect(firstPid).toBeDefined();
    process.kill(firstPid ?? 0, "SIGKILL");
    // Launches written while the launcher dies either start or fail as retryable; none crashes the process.
    const racing = await Promise.allSettled([0, 1, 2, 3].map(() => launch("echo raced")));
    for (const result of racing) {
      if (result.status === "rejected") expect(result.reason).toMatchObject({ retryable: true });
      else expect(await result.value.ended).toMatchObject({ outcome: "success" });
    }
    writeFileSync(release, "");
    const ends = await Promise.all(running.map((r) => r.ended));
    expect(ends.map((e) => [e.outcome, e.exitCode])).toEqual([
      ["success", 0],
      ["failed", 1],
      ["failed", 2],
    ]);
    const after = await launch("echo after the restart");
    expect(await after.ended).toMatchObject({ outcome: "success" });
    expect(launcher.pid).not.toBe(firstPid);
    expect(launcher.boots).toBeGreaterThan(1);
    expect(existsSync(after.request.logPath)).toBe(true);
  });
});

describe("attempts' cgroups", () => {
  it("are removed at the attempt's end, and empty ones a stopped scheduler left are removed at the next start", { timeout: TIMEOUT }, async () => {
    const containment = detectContainment();
    // Where no cgroup can be made, the start log says why; the token search covers the rest.
    if (containment.kind !== "cgroup") {
      expect(containment.why).not.toBe("");
      return;
    }
    const { launch } = await makeExecutor({ starter: "python-launcher", containment });
    const attempt = await launch("setsid sleep 1000 & echo started");
    const cgroup = readFileSync(join(attempt.request.attemptDir, "cgroup"), "utf8");
    expect(cgroup).toBe(join(containment.parent, `a-${attempt.token}`));
    expect(await attempt.ended).toMatchObject({ outcome: "success" });
    await eventually("the attempt's cgroup removed", () => !existsSync(cgroup));
    const stale = join(containment.parent, `a-stale-${process.pid}`);
    const fresh = join(containment.parent, `a-fresh-${process.pid}`);
    mkdirSync(stale);
    mkdirSync(fresh);
    onTestFinished(() => {
      for (const dir of [stale, fresh]) if (existsSync(dir)) rmdirSync(dir);
    });
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(stale, old, old);
    detectContainment();
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });
});
