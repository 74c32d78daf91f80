/**
 * `capstan up`'s first start (a one-time admin password, never a fixed one), the local CLI token it
 * writes (mode 0600) so commands against the same home keep working, and `capstan login` /
 * `capstan logout` against a server URL with the token saved per server (mode 0600).
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startUp, type CliResult, type UpProcess } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";

/** Runs `capstan ARGS` with `input` on stdin. */
function capstan(args: string[], options: { cwd: string; env: Record<string, string>; input?: string }): Promise<CliResult> {
  return runCli(args, { ...options, timeoutMs: 60_000 });
}

function waitFor(up: UpProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`capstan up never printed ${pattern}\n${up.stderr()}`)), 30_000);
    const check = () => {
      const match = pattern.exec(up.stderr());
      if (!match) return;
      clearTimeout(timer);
      up.child.stderr?.off("data", check);
      resolve(match);
    };
    up.child.stderr?.on("data", check);
    check();
  });
}

async function stop(up: UpProcess): Promise<void> {
  if (up.child.exitCode !== null) return;
  const exited = new Promise((resolve) => up.child.once("exit", resolve));
  up.child.kill("SIGTERM");
  await exited;
}

let running: UpProcess | undefined;
afterEach(async () => {
  if (running) await stop(running);
  running = undefined;
});

describe("capstan up and capstan login", () => {
  it("prints a one-time admin password on first start, keeps local commands working, and logs in to a server by URL", async () => {
    const dir = tempDir();
    const home = join(dir, "home");
    const pipelines = join(dir, "pipelines");
    mkdirSync(pipelines);
    writeFileSync(join(pipelines, "hello.yaml"), "id: hello\ntasks:\n  say: { command: 'echo hello' }\n");
    const credentials = join(dir, "credentials.json");
    const env = { CAPSTAN_CREDENTIALS: credentials, CAPSTAN_LOG_LEVEL: "warn" };

    running = await startUp(["--home", home, "--pipelines", pipelines], { cwd: dir, env });
    const banner = await waitFor(running, /username: (\S+)\n {2}password: (\S+)\n/);
    const [, username, password] = banner;
    expect(username).toBe("admin");
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(running.stderr()).toContain("shown only this once");

    const tokenFile = join(home, "cli-token");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const local = await capstan(["--home", home, "--pipelines", pipelines, "--json", "run", "hello", "--wait"], { cwd: dir, env });
    expect(local.code, local.stderr).toBe(0);
    expect((JSON.parse(local.stdout) as { state: string }).state).toBe("success");

    // Another home: no local token, so only what `capstan login` saves can reach the server.
    const elsewhere = join(dir, "elsewhere");
    const before = await capstan(["--home", elsewhere, "--server", running.url, "pipelines", "list"], { cwd: dir, env });
    expect(before.code).toBe(2);
    expect(before.stderr).toMatch(/sign in or send an API token/);
    const wrong = await capstan(["--home", elsewhere, "--server", running.url, "login", "--username", "admin", "--password-stdin"], { cwd: dir, env, input: "not-the-password\n" });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/login to .* failed: wrong username or password/);
    const login = await capstan(["--home", elsewhere, "--server", running.url, "login", "--username", "admin", "--password-stdin"], { cwd: dir, env, input: `${password ?? ""}\n` });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`logged in to ${running.url} as admin`);
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    const listed = await capstan(["--home", elsewhere, "--server", running.url, "--json", "pipelines", "list"], { cwd: dir, env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('"hello"');

    const logout = await capstan(["--home", elsewhere, "--server", running.url, "logout"], { cwd: dir, env });
    expect(logout.stdout).toContain("the token is revoked");
    const after = await capstan(["--home", elsewhere, "--server", running.url, "pipelines", "list"], { cwd: dir, env });
    expect(after.code).toBe(2);

    // Stopping revokes and removes the local token; the next start creates no second admin.
    await stop(running);
    expect(existsSync(tokenFile)).toBe(false);
    running = await startUp(["--home", home, "--pipelines", pipelines], { cwd: dir, env });
    await waitFor(running, /Capstan is up at/);
    const again = await capstan(["--home", home, "--pipelines", pipelines, "--json", "runs", "list"], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(running.stderr()).not.toContain("password:");
  });
});
