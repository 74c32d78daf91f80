/**
 * The task boundary's own parts with real processes: the namespace prefix run by an ordinary
 * user hides the home but for the folders mounted back, and the task cannot unmount its way to
 * the home; the launcher, entering the boundary with system calls, gives the same view in both
 * modes; run_as names are checked against the user database and the configuration.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../config/index.js";
import { resolveTaskUser, TaskBoundary, type TaskBoundaryPlan } from "./task-user.js";

const root = process.getuid?.() === 0;
/** The ordinary user the namespace case runs as: nobody when the tests run as root. */
const user = root ? { uid: 65534, gid: 65534 } : { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };

/** A home with a token and an attempt folder, owned by `user`, under a folder anyone can enter. */
function makeHome(): { home: string; attemptDir: string; artifactsDir: string } {
  const dir = mkdtempSync(join(tmpdir(), "capstan-task-user-"));
  chmodSync(dir, 0o755);
  const home = join(dir, "home");
  const attemptDir = join(home, "attempts", "run-1", "t", "1");
  const artifactsDir = join(home, "artifacts", "run-1");
  mkdirSync(attemptDir, { recursive: true });
  mkdirSync(artifactsDir, { recursive: true });
  mkdirSync(join(home, "attempts", "run-0", "t", "1"), { recursive: true });
  writeFileSync(join(home, "attempts", "run-0", "t", "1", "output.json"), '{"other": "run"}');
  writeFileSync(join(home, "cli-token"), "capstan_cli_admin_token\n");
  writeFileSync(join(home, "secret.key"), "key\n");
  chmodSync(home, 0o700);
  if (root) {
    for (const path of [home, join(home, "cli-token"), join(home, "secret.key"), join(home, "attempts"), join(home, "attempts", "run-0"), join(home, "attempts", "run-0", "t"), join(home, "attempts", "run-0", "t", "1"), join(home, "attempts", "run-0", "t", "1", "output.json"), join(home, "attempts", "run-1"), join(home, "attempts", "run-1", "t"), attemptDir, join(home, "artifacts"), artifactsDir]) {
      chownSync(path, user.uid, user.gid);
    }
  }
  return { home, attemptDir, artifactsDir };
}

describe("the namespace boundary (Capstan not running as root)", () => {
  it("shows a task only its attempt's folder and the run's artifacts of the home, and the task cannot unmount the cover", () => {
    const { home, attemptDir, artifactsDir } = makeHome();
    const warnings: string[] = [];
    const boundary = TaskBoundary.resolve({ home, uid: user.uid, gid: user.gid, warn: (m) => warnings.push(m) });
    expect({ mode: boundary.mode, warnings }).toEqual({ mode: "namespace", warnings: [] });
    const prefix = boundary.prefix({ attemptDir, artifactsDir, cwd: "/" });
    const script = [
      'echo "uid $(id -u)"',
      `cat ${home}/cli-token ${home}/secret.key ${home}/attempts/run-0/t/1/output.json 2>/dev/null && echo LEAK`,
      `echo written > ${attemptDir}/out && echo artifact > ${artifactsDir}/a && echo "wrote"`,
      `umount -l ${home} 2>/dev/null; unshare -Urm sh -c 'umount -l ${home}; cat ${home}/cli-token' 2>/dev/null && echo LEAK`,
      `ls -A ${home}`,
    ].join("\n");
    const asUser = root ? ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--"] : [];
    const [command = "", ...args] = [...asUser, ...prefix, "/bin/sh", "-c", script];
    const result = spawnSync(command, args, { cwd: "/", encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    expect({ status: result.status, stdout: result.stdout.trim().split("\n") }).toEqual({ status: 0, stdout: [`uid ${user.uid}`, "wrote", "artifacts", "attempts"].filter((line) => line !== "") });
    expect(readFileSync(join(attemptDir, "out"), "utf8")).toBe("written\n");
    expect(readFileSync(join(artifactsDir, "a"), "utf8")).toBe("artifact\n");
  });
});

/** Runs one attempt through the launcher (started after `asUser`), which enters the boundary itself; resolves with its exit code and log. */
async function throughLauncher(asUser: string[], plan: TaskBoundaryPlan, attemptDir: string, script: string): Promise<{ status: number | undefined; stdout: string[] }> {
  const [command = "", ...args] = [...asUser, join(process.cwd(), ".venv", "bin", "python"), "-I", join(process.cwd(), "python", "capstan_runtime", "launcher.py")];
  const launcher = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"], cwd: "/" });
  const log = join(attemptDir, "log");
  try {
    const exit = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let pid: unknown;
      createInterface({ input: launcher.stdout }).on("line", (line) => {
        const message = JSON.parse(line) as Record<string, unknown>;
        if (message.error !== undefined) reject(new Error(JSON.stringify(message.error)));
        if (message.id === 1) pid = message.pid;
        if (message.exit !== undefined && message.exit === pid) resolve(message);
      });
      launcher.once("exit", (code) => reject(new Error(`the launcher exited (${String(code)})`)));
      const request = { id: 1, argv: ["/bin/sh", "-c", script], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, log, dir: attemptDir, cwd: "/", cgroup: null, max_log: 1_000_000, boundary: plan };
      launcher.stdin.write(`${JSON.stringify(request)}\n`);
    });
    return { status: exit.code as number | undefined, stdout: readFileSync(log, "utf8").trim().split("\n") };
  } finally {
    launcher.stdin.end();
    rmSync(log, { force: true });
  }
}

describe("the boundary entered by the launcher itself (system calls instead of unshare, mount and setpriv)", () => {
  it("shows a task the same view of the home as the shell prefix, as root (run_as) and as an ordinary user (nested namespaces)", { timeout: 60_000 }, async () => {
    const cases = root ? (["user", "namespace"] as const) : (["namespace"] as const);
    for (const mode of cases) {
      const { home, attemptDir, artifactsDir } = makeHome();
      const boundary = TaskBoundary.resolve(mode === "user" ? { home } : { home, uid: user.uid, gid: user.gid });
      expect(boundary.mode).toBe(mode);
      const plan = boundary.plan({ attemptDir, artifactsDir, cwd: "/" });
      expect(plan).toMatchObject({ mode, home, binds: [relative(home, attemptDir), relative(home, artifactsDir)] });
      const script = [
        'echo "uid $(id -u) pwd $PWD"',
        `cat ${home}/cli-token ${home}/secret.key ${home}/attempts/run-0/t/1/output.json 2>/dev/null && echo LEAK`,
        `echo written > ${attemptDir}/out && echo artifact > ${artifactsDir}/a && echo "wrote"`,
        `umount -l ${home} 2>/dev/null; unshare -Urm sh -c 'umount -l ${home}; cat ${home}/cli-token' 2>/dev/null && echo LEAK`,
        `ls -A ${home}`,
        "grep '^NoNewPrivs' /proc/self/status",
      ].join("\n");
      // As root, the launcher runs as root; the namespace mode is the launcher of an ordinary user.
      const asUser = mode === "namespace" && root ? ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--"] : [];
      const result = await throughLauncher(asUser, plan as TaskBoundaryPlan, attemptDir, script);
      const noNewPrivs = mode === "user" ? "NoNewPrivs:\t1" : "NoNewPrivs:\t0";
      expect({ mode, ...result }).toEqual({ mode, status: 0, stdout: [`uid ${mode === "user" ? 65534 : user.uid} pwd /`, "wrote", "artifacts", "attempts", noNewPrivs] });
      expect(readFileSync(join(attemptDir, "out"), "utf8")).toBe("written\n");
      expect(readFileSync(join(attemptDir, "status"), "utf8")).toBe("0\n");
      expect(readFileSync(join(artifactsDir, "a"), "utf8")).toBe("artifact\n");
    }
  });
});

describe("run_as", () => {
  it("accepts a user name or uid:gid and names what is wrong with anything else", () => {
    expect(resolveTaskUser("nobody")).toMatchObject({ uid: 65534, name: "nobody" });
    expect(resolveTaskUser("1234:5678")).toEqual({ uid: 1234, gid: 5678, name: null });
    expect(() => resolveTaskUser("no-such-capstan-user")).toThrow('local.run_as: there is no user "no-such-capstan-user" on this machine; give an existing user name or uid:gid (e.g. 65534:65534)');
    expect(() => resolveTaskUser("a b")).toThrow('local.run_as: "a b" is neither a user name nor uid:gid (e.g. nobody or 65534:65534)');
  });

  it("refuses root, and is ignored with a message when Capstan does not run as root", () => {
    expect(() => TaskBoundary.resolve({ home: tmpdir(), uid: 0, gid: 0, runAs: "0:0" })).toThrow("tasks must run as an unprivileged user");
    const warnings: string[] = [];
    TaskBoundary.resolve({ home: mkdtempSync(join(tmpdir(), "capstan-task-user-")), uid: user.uid, gid: user.gid, runAs: "nobody", warn: (m) => warnings.push(m) });
    expect(warnings[0]).toBe(`local executor: local.run_as is ignored: it applies only when Capstan runs as root, and this process runs as uid ${user.uid}`);
  });

  it("says in capstan.yaml where a bad run_as or isolation is", () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-task-user-"));
    writeFileSync(join(dir, "capstan.yaml"), "local:\n  run_as: root\n  isolation: maybe\n");
    let message = "";
    try {
      loadConfig({}, {}, dir);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toBe(
      [
        `${join(dir, "capstan.yaml")}:2:11: local.run_as: tasks must not run as root; name an unprivileged user`,
        `${join(dir, "capstan.yaml")}:3:14: local.isolation: expected "auto" (tasks cannot see the platform's home) or "off"`,
      ].join("\n"),
    );
  });

  it("says at start when the task user cannot run a program tasks need", () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-task-user-"));
    chmodSync(dir, 0o755);
    const program = join(dir, "python");
    writeFileSync(program, "#!/bin/sh\nexit 0\n", { mode: 0o700 });
    chmodSync(program, 0o700);
    const boundary = TaskBoundary.resolve({ home: dir });
    const problem = boundary.checkProgram(program, ["-c", ""]);
    if (root) expect(problem).toMatch(new RegExp(`^${program} cannot be run by nobody, the user tasks run as \\(.*\\); make it and its files readable by that user \\(a Python under /root needs chmod o\\+x /root\\) or set local.run_as$`));
    else expect(problem).toBeUndefined();
    chmodSync(program, 0o755);
    expect(boundary.checkProgram(program, ["-c", ""])).toBeUndefined();
  });

  it("refuses local tasks under root when their namespace cannot be set up, instead of running them as root", () => {
    const warnings: string[] = [];
    const boundary = TaskBoundary.resolve({ home: join(tmpdir(), "capstan-no-such-home", "home"), warn: (m) => warnings.push(m) });
    if (root) {
      expect(boundary.mode).toBe("refused");
      expect(() => boundary.check()).toThrow(/^local tasks cannot run: Capstan runs as root and their mount namespace could not be set up \(.+\); allow it \(CAP_SYS_ADMIN, unshare not blocked by seccomp\) or set local.isolation: off to run them as root with the platform's rights$/);
      expect(warnings).toEqual([`local executor: ${boundary.description}`]);
    } else {
      expect(boundary.mode).toBe("none");
      expect(warnings[0]).toMatch(/^local executor: tasks run as the platform's user and can read its home \(user namespaces are not available: /);
    }
  });

  it("leaves tasks as the platform's user, with one warning, when isolation is off", () => {
    const warnings: string[] = [];
    const boundary = TaskBoundary.resolve({ home: tmpdir(), isolation: "off", warn: (m) => warnings.push(m) });
    expect({ mode: boundary.mode, prefix: boundary.prefix({ attemptDir: "/a", artifactsDir: "/b", cwd: "/" }) }).toEqual({ mode: "none", prefix: [] });
    expect(warnings).toEqual(["local executor: tasks run as the platform's user and can read its home (local.isolation: off)"]);
  });
});
