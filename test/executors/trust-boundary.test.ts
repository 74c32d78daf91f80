/**
 * The trust boundary between local tasks and the platform, with real processes and files: a task
 * cannot read the home's CLI token, secret key, database, logs or another run's attempt folder; it
 * can still write its outputs and the run's artifacts; as root it runs as the unprivileged run_as
 * user (a notebook's kernel too); its environment carries no platform credential; the home and its
 * credential files are private to the platform's user, and loose ones are tightened at start.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeLocalCliToken } from "../../src/auth/index.js";
import { acquireSchedulerLock } from "../../src/wiring/index.js";
import { startUp, type UpProcess } from "../support/cli-process.js";
import { openHarness, tempDir, type Harness } from "../support/platform-harness.js";

const root = process.getuid?.() === 0;
/** The uid tasks run as: nobody under root, else this user (in a namespace). */
const taskUid = root ? 65534 : (process.getuid?.() ?? -1);

let harness: Harness | undefined;
let up: UpProcess | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  if (up && up.child.exitCode === null) {
    const exited = new Promise((resolve) => up?.child.once("exit", resolve));
    up.child.kill("SIGTERM");
    await exited;
  }
  up = undefined;
});

const mode = (path: string) => statSync(path).mode & 0o777;

/** Lists which of the home's private things the task could read (nothing, when the boundary holds). */
const PROBE = [
  'home="${CAPSTAN_ARTIFACTS_DIR%/artifacts/*}"',
  'read=""',
  'for f in cli-token secret.key capstan.db; do if cat "$home/$f" >/dev/null 2>&1; then read="$read $f"; fi; done',
  'if ls "$home/logs" >/dev/null 2>&1; then read="$read logs"; fi',
  'if [ -n "$OTHER" ] && ls "$OTHER" >/dev/null 2>&1; then read="$read other-run"; fi',
  'if [ -n "$OTHER" ] && cat "$OTHER/output.json" >/dev/null 2>&1; then read="$read other-output"; fi',
  'mkdir -p "$CAPSTAN_ARTIFACTS_DIR/probe" && echo "from probe" > "$CAPSTAN_ARTIFACTS_DIR/probe/data.txt"',
  'printf \'{"uid": %s, "read": "%s"}\' "$(id -u)" "$read" > "$CAPSTAN_OUTPUT"',
].join("\n");

const PIPELINE = JSON.stringify({
  id: "boundary",
  params: { other: { type: "string", default: "" } },
  tasks: {
    probe: { command: PROBE, env: { OTHER: "{{ params.other }}" } },
    use: { command: 'printf \'{"got": "%s"}\' "$(cat "$CAPSTAN_ARTIFACTS_DIR/probe/data.txt")" > "$CAPSTAN_OUTPUT"', depends_on: ["probe"] },
  },
});

describe("the trust boundary of local tasks", () => {
  it("keeps the home's token, key, database, logs and other runs' folders from a task, which still writes outputs and artifacts", async () => {
    harness = await openHarness({ pipelines: { "boundary.yaml": PIPELINE } });
    const h = harness;
    expect(h.platform.taskBoundary.mode).toBe(root ? "user" : "namespace");
    writeLocalCliToken(h.home, "capstan_cli_admin_token");
    expect(existsSync(join(h.home, "secret.key"))).toBe(true);
    expect(existsSync(join(h.home, "capstan.db"))).toBe(true);

    const first = await h.platform.scheduler.trigger("boundary");
    expect((await h.waitForRun(first.id)).state).toBe("success");
    const firstProbe = (await h.platform.store.attempts.listByTask({ runId: first.id, taskId: "probe" }))[0];
    const otherDir = firstProbe?.attemptDir ?? "";
    expect(existsSync(join(otherDir, "output.json"))).toBe(true);

    const second = await h.platform.scheduler.trigger("boundary", { params: { other: otherDir } });
    expect((await h.waitForRun(second.id)).state).toBe("success");
    const probe = await h.platform.store.tasks.get({ runId: second.id, taskId: "probe" });
    expect(probe?.outputs).toEqual({ uid: taskUid, read: "" });
    const use = await h.platform.store.tasks.get({ runId: second.id, taskId: "use" });
    expect(use?.outputs).toEqual({ got: "from probe" });

    // Ended attempts are the platform's again, out of later tasks' reach.
    const attemptDir = (await h.platform.store.attempts.listByTask({ runId: second.id, taskId: "probe" }))[0]?.attemptDir ?? "";
    expect(statSync(attemptDir).uid).toBe(process.getuid?.());
    expect(mode(attemptDir)).toBe(root ? 0o700 : mode(attemptDir));
  });

  it("runs a notebook task's kernel as the task user, without the home", async () => {
    harness = await openHarness({});
    const h = harness;
    const cell = "import json, os\njson.dump({'uid': os.getuid(), 'gid': os.getgid(), 'token': os.path.exists(os.environ['CAPSTAN_ARTIFACTS_DIR'].rsplit('/artifacts/', 1)[0] + '/secret.key')}, open(os.environ['CAPSTAN_OUTPUT'], 'w'))";
    writeFileSync(
      join(h.pipelinesDir, "whoami.ipynb"),
      JSON.stringify({
        cells: [{ cell_type: "code", execution_count: null, id: "c0", metadata: {}, outputs: [], source: cell }],
        metadata: { kernelspec: { display_name: "Python 3", language: "python", name: "python3" }, language_info: { name: "python" } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    h.writePipeline("nb.yaml", "id: whoami\ntasks:\n  report: { notebook: whoami.ipynb }\n");
    await h.platform.reloadPipelines();
    const run = await h.platform.scheduler.trigger("whoami");
    const done = await h.waitForRun(run.id, 120_000);
    const report = await h.platform.store.tasks.get({ runId: run.id, taskId: "report" });
    expect({ state: done.state, reason: report?.reason ?? null }).toEqual({ state: "success", reason: null });
    expect(report?.outputs).toMatchObject({ uid: taskUid, gid: root ? 65534 : process.getgid?.(), token: false });
  });

  it("gives a task no platform credential in its environment", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      CAPSTAN_TOKEN: "capstan_cli_token_value",
      CAPSTAN_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
      PGPASSWORD: "pg-password-value",
      PGPASSFILE: "/etc/capstan/pgpass",
      DATABASE_URL: "postgres://capstan:db-password-value@db/capstan",
    });
    try {
      harness = await openHarness({ pipelines: { "env.yaml": JSON.stringify({ id: "env", tasks: { dump: { command: 'env > "$CAPSTAN_ARTIFACTS_DIR/env.txt"' } } }) } });
    } finally {
      for (const name of ["CAPSTAN_TOKEN", "CAPSTAN_SECRET_KEY", "PGPASSWORD", "PGPASSFILE", "DATABASE_URL"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
    const run = await harness.platform.scheduler.trigger("env");
    expect((await harness.waitForRun(run.id)).state).toBe("success");
    const env = readFileSync(join(harness.home, "artifacts", run.id, "env.txt"), "utf8");
    expect(env).toContain("CAPSTAN_RUN_ID=");
    for (const leaked of ["CAPSTAN_TOKEN", "CAPSTAN_SECRET_KEY", "capstan_cli_token_value", "PGPASSWORD", "pg-password-value", "PGPASSFILE", "DATABASE_URL", "db-password-value", "CAPSTAN_DATABASE_URL"]) {
      expect(env).not.toContain(leaked);
    }
  });

  it("makes the home private to the platform's user and tightens an existing loose one at start", async () => {
    harness = await openHarness({
      configure: (config) => {
        mkdirSync(config.home, { recursive: true, mode: 0o755 });
        chmodSync(config.home, 0o755);
        writeFileSync(join(config.home, "secret.key"), `${Buffer.alloc(32, 1).toString("base64")}\n`, { mode: 0o644 });
        writeFileSync(join(config.home, "cli-token"), "old-token\n", { mode: 0o644 });
        chmodSync(join(config.home, "secret.key"), 0o644);
        chmodSync(join(config.home, "cli-token"), 0o644);
      },
    });
    const { home } = harness;
    expect(mode(home)).toBe(0o700);
    expect(mode(join(home, "secret.key"))).toBe(0o600);
    expect(mode(join(home, "cli-token"))).toBe(0o600);
    for (const file of ["capstan.db", "capstan.db-wal", "capstan.db-shm"]) {
      if (existsSync(join(home, file))) expect([file, mode(join(home, file))]).toEqual([file, 0o600]);
    }
    expect(existsSync(join(home, "capstan.db"))).toBe(true);
    const lock = acquireSchedulerLock(join(harness.dir, "fresh-home"), "up");
    try {
      expect(mode(join(harness.dir, "fresh-home"))).toBe(0o700);
      expect(mode(join(harness.dir, "fresh-home", "scheduler.lock.json"))).toBe(0o600);
    } finally {
      lock.release();
    }
  });

  it("names the mode at start, and capstan up keeps no warm kernels that would run outside the boundary", async () => {
    const dir = tempDir();
    const home = join(dir, "home");
    mkdirSync(join(dir, "pipelines"));
    up = await startUp(["--home", home, "--pipelines", join(dir, "pipelines")], { cwd: dir, env: { CAPSTAN_LOG_LEVEL: "info" } });
    const running = up;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`capstan up did not say whether warm kernels run\n${running.stderr()}`)), 30_000);
      const check = () => {
        if (!running.stderr().includes("warm kernels are off") && !running.stderr().includes("capstan is up")) return;
        clearTimeout(timer);
        resolve();
      };
      running.child.stderr?.on("data", check);
      check();
    });
    expect(running.stderr()).toContain(root ? "local executor: tasks run as nobody (uid 65534) in a mount namespace without the platform's home" : "local executor: tasks run as this user");
    expect(running.stderr()).toContain("warm kernels are off while tasks run apart from the platform's home; notebook tasks start their kernels cold");
    expect(existsSync(join(home, "kernel-pool"))).toBe(false);
  });
});
