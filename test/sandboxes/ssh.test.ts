/**
 * SSH into a sandbox through Capstan, with a real sshd (Debian's openssh-server) behind a real local
 * sandbox and the system `ssh`: `capstan sandbox ssh` runs a command in the home, the printed
 * ~/.ssh/config block works as VS Code Remote-SSH would use it, and the WebSocket upgrade itself is
 * refused without a token (401), with another user's token, even a teammate's or an admin's (404),
 * and for a sandbox that does not run (409); refused attempts are no activity, the owner's are.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { runCli, type CliResult } from "../support/cli-process.js";
import { CAPSTAN_BIN } from "../support/build.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

let h: ServerHarness;
let alice: TestUser;
let carol: TestUser;
let bob: TestUser;
let admin: TestUser;
let lab: { id: string; name: string };
const cwd = tempDir("capstan-sandbox-ssh-");
const keyDir = tempDir("capstan-ssh-key-");
const key = join(keyDir, "id_ed25519");
const credentials = join(tempDir("capstan-ssh-cred-"), "credentials.json");

beforeAll(async () => {
  h = await openServer();
  for (const team of ["ml", "web"]) await h.auth.createTeam(team, null);
  alice = await h.user("alice", { ml: "editor" });
  carol = await h.user("carol", { ml: "editor" });
  bob = await h.user("bob", { web: "editor" });
  admin = await h.user("root-admin", {}, { admin: true });
  const created = await h.call<{ id: string; name: string }>("POST", "/api/sandboxes", { token: alice.token, body: { name: "lab" } });
  lab = created.body;
  const started = await h.call<{ state: string; reason: string | null }>("POST", `/api/sandboxes/${lab.id}/start`, { token: alice.token });
  expect(started.body, JSON.stringify(started.body)).toMatchObject({ state: "running" });
  // Alice's key goes where sshd looks: ~/.ssh/authorized_keys in the sandbox's home.
  expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]).status).toBe(0);
  const home = join(h.home, "sandboxes", "homes", lab.id);
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, ".ssh", "authorized_keys"), readFileSync(`${key}.pub`), { mode: 0o600 });
  writeFileSync(join(home, "notes.txt"), "written in the home\n");
}, 120_000);

afterAll(async () => {
  if (!h) return;
  for (const row of await h.platform.store.sandboxes.list({ states: ["starting", "running", "stopping"] })) await h.platform.sandboxes.stopIdle(row.id);
  await h.close();
});

const cli = (token: string, ...args: string[]): Promise<CliResult> =>
  runCli(["--server", h.url, ...args], { cwd, env: { CAPSTAN_TOKEN: token, CAPSTAN_HOME: tempDir("capstan-cli-home-"), CAPSTAN_CREDENTIALS: credentials } });

/** Opens the tunnel's WebSocket; resolves with the status of a refused upgrade, or 101 when it opened. */
function upgrade(id: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${h.url.replace(/^http/, "ws")}/api/sandboxes/${id}/ssh`, { headers });
    ws.once("open", () => {
      ws.close();
      resolve({ status: 101, body: "" });
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("error", reject);
  });
}

const lastActivity = async (id: string): Promise<number> => (await h.platform.store.sandboxes.get(id))!.lastActivity;

describe("SSH into a sandbox through Capstan", () => {
  it("refuses the upgrade to anyone but the owner with a token, and refused attempts are no activity", async () => {
    const before = await lastActivity(lab.id);
    expect((await upgrade(lab.id)).status).toBe(401);
    expect((await upgrade(lab.id, { authorization: "Bearer capstan_not-a-token" })).status).toBe(401);
    const session = await h.login("alice", alice.password);
    // A browser's session cookie alone never opens a tunnel (no page of another site can open one).
    expect((await upgrade(lab.id, { cookie: session.cookie, origin: h.url })).status).toBe(401);
    for (const other of [bob, carol, admin]) {
      const refused = await upgrade(lab.id, { authorization: `Bearer ${other.token}` });
      expect(refused.status, other.username).toBe(404);
      expect(refused.body).not.toContain("127.0.0.1");
    }
    // The id is checked once the caller is known; a crafted one is a 400, not a crash.
    expect((await upgrade("..%2F..%2Fetc", { authorization: `Bearer ${alice.token}` })).status).toBe(400);
    expect((await upgrade("s0000000000000000", { authorization: `Bearer ${bob.token}` })).status).toBe(400);
    // The plain GET goes through the API's own checks.
    expect((await h.call("GET", `/api/sandboxes/${lab.id}/ssh`)).status).toBe(401);
    expect((await h.call("GET", `/api/sandboxes/${lab.id}/ssh`, { token: bob.token })).status).toBe(404);
    expect((await h.call("GET", `/api/sandboxes/${lab.id}/ssh`, { token: carol.token })).status).toBe(404);
    const described = await h.call<{ user: string; host_key: string | null }>("GET", `/api/sandboxes/${lab.id}/ssh`, { token: alice.token });
    expect(described.status).toBe(200);
    expect(described.body.host_key).toMatch(/^ssh-ed25519 /);
    // The CLI says why, on stderr, with another user's token.
    const tunnel = await cli(bob.token, "sandbox", "tunnel", lab.id);
    expect(tunnel.code).toBe(2);
    expect(tunnel.stderr).toContain("the SSH tunnel was refused");
    expect(tunnel.stdout).toBe("");
    expect(await lastActivity(lab.id)).toBe(before);

    // The owner's SSH session through the tunnel runs in the home, and counts as activity.
    const ran = await cli(alice.token, "sandbox", "ssh", "lab", "-i", key, "-o", "BatchMode=yes", "--", "echo", "hello-over-ssh", "&&", "pwd", "&&", "cat", "notes.txt");
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe(`hello-over-ssh\n${join(h.home, "sandboxes", "homes", lab.id)}\nwritten in the home\n`);
    expect(await lastActivity(lab.id)).toBeGreaterThan(before);
  }, 120_000);

  it("prints the ~/.ssh/config block that plain ssh (and VS Code Remote-SSH) connects with", async () => {
    const printed = await cli(alice.token, "sandbox", "ssh", "lab", "--print-config");
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain("Host capstan-lab\n");
    expect(printed.stdout).toContain(`ProxyCommand capstan --server ${h.url} sandbox tunnel lab`);
    // As a user's machine has it: `capstan` on PATH, the token saved by `capstan login` (here CAPSTAN_TOKEN).
    const bin = tempDir("capstan-ssh-bin-");
    writeFileSync(join(bin, "capstan"), `#!/bin/sh\nexec "${process.execPath}" "${CAPSTAN_BIN}" "$@"\n`);
    chmodSync(join(bin, "capstan"), 0o755);
    const config = join(keyDir, "config");
    writeFileSync(config, `${printed.stdout}  IdentityFile ${key}\n  BatchMode yes\n`);
    const ssh = spawn("ssh", ["-F", config, "capstan-lab", "cat", "notes.txt"], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, CAPSTAN_TOKEN: alice.token, CAPSTAN_CREDENTIALS: credentials, CAPSTAN_HOME: tempDir("capstan-cli-home-") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    ssh.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    ssh.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => ssh.on("close", resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toBe("written in the home\n");
  }, 120_000);

  it("ends open SSH sessions when the sandbox stops, then refuses it (409) until it runs again", async () => {
    const session = spawn(process.execPath, [CAPSTAN_BIN, "--server", h.url, "sandbox", "ssh", "lab", "-i", key, "-o", "BatchMode=yes", "--", "echo", "started", "&&", "sleep", "120"], {
      cwd,
      env: { ...process.env, CAPSTAN_TOKEN: alice.token, CAPSTAN_CREDENTIALS: credentials, CAPSTAN_HOME: tempDir("capstan-cli-home-") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const ended = new Promise<number | null>((resolve) => session.on("close", resolve));
    let stderr = "";
    session.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      session.stdout.on("data", (d: Buffer) => d.toString().includes("started") && resolve());
      session.once("close", (code) => reject(new Error(`the SSH session ended (${String(code)}) before it started: ${stderr}`)));
    });
    const stopped = await h.call<{ state: string }>("POST", `/api/sandboxes/${lab.id}/stop`, { token: alice.token });
    expect(stopped.body.state).toBe("stopped");
    expect(await ended).not.toBe(0);
    const refused = await upgrade(lab.id, { authorization: `Bearer ${alice.token}` });
    expect(refused.status).toBe(409);
    expect(refused.body).toContain("start it");
    const ran = await cli(alice.token, "sandbox", "ssh", "lab", "-i", key, "-o", "BatchMode=yes", "--", "true");
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain("is stopped");
    // Four CLI starts and an ssh session: minutes, not seconds, on a loaded 2-core machine.
  }, 180_000);
});
