/**
 * Local replicas across restarts of a real `capstan up`: a replica outlives a kill -9 of `up`, keeps
 * answering, and the next `up` adopts it (same pid and port, no second `capstan serve` of the
 * deployment); a replica that died meanwhile is replaced, a record whose pid is another program's is
 * forgotten without signalling it; a graceful stop of `up` stops the replicas and leaves no record;
 * a deployment deleted while no `up` runs has its left-over replica stopped by the next one.
 *
 * Adoption against look-alikes (a process with a replica's command line answering on its port, as
 * another program or user could start on a reused pid): a record whose pid now has another start
 * time, or whose process runs as another user, is forgotten without a signal and never sent the
 * inference key; an adopted replica whose pid stops being ours is dropped by step() and not signalled.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HttpClient } from "../../src/cli/client.js";
import { isProcessAlive, processStartTime } from "../../src/executors/local/index.js";
import type { DeploymentView } from "../../src/operations/index.js";
import { LocalReplicaSet } from "../../src/serving/deployments/index.js";
import { runCli, startUp, type UpProcess } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";
import { writeMar } from "./support/mar-builder.js";
import { python } from "./support/serve-harness.js";

const HANDLER = "def handle(data, context):\n    return [{'ok': True} for _ in (data or [])]\n";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The `capstan serve` processes started for the deployment folder `folder` (their workers left out). */
function servesOf(folder: string): number[] {
  return execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(" serve ") && line.includes(`--ts-config ${join(folder, "config.properties")}`))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe("local replicas across restarts of capstan up", () => {
  it("survive a kill -9 of up and are adopted by the next one; dead ones are replaced, foreign pids left alone", { timeout: 300_000 }, async () => {
    const dir = tempDir("capstan-deployments-restart-");
    const home = join(dir, "home");
    const folder = join(home, "deployments", "users-prod");
    const env: Record<string, string> = { CAPSTAN_HOME: home, CAPSTAN_PYTHON: python };
    const cli = async (...args: string[]) => {
      const result = await runCli(args, { cwd: dir, env });
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      return result;
    };
    writeMar(join(dir, "users.mar"), { modelName: "users", handler: "handler.py", files: { "handler.py": HANDLER } });
    await cli("models", "register", "users", "users.mar");
    await cli("models", "alias", "users", "1", "production");
    await cli("deployments", "create", "users-prod", "users@production");

    const start = async (): Promise<{ up: UpProcess; client: HttpClient }> => {
      const up = await startUp([], { cwd: dir, env, timeoutMs: 60_000 });
      return { up, client: new HttpClient(up.url, readFileSync(join(home, "cli-token"), "utf8").trim()) };
    };
    const until = async (client: HttpClient, done: (view: DeploymentView) => boolean, watch?: (view: DeploymentView) => void): Promise<DeploymentView> => {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const view = await client.getDeployment("users-prod");
        watch?.(view);
        if (done(view)) return view;
        if (Date.now() > deadline) throw new Error(`deployment did not get there: ${JSON.stringify(view)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const killHard = async (up: UpProcess) => {
      up.child.kill("SIGKILL");
      if (up.child.exitCode === null && up.child.signalCode === null) await new Promise((resolve) => up.child.once("exit", resolve));
    };
    const predict = async (url: string, key: string) => (await fetch(`${url}/predictions/users`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: "{}" })).status;

    // First up: one replica, recorded once ready.
    let { up, client } = await start();
    const first = await until(client, (v) => v.state === "ready");
    const { pid, url } = first.replica_status[0]! as { pid: number; url: string };
    const { key } = await client.deploymentKey("users-prod");
    expect(readdirSync(folder).filter((f) => /^replica-\d+\.json$/.test(f))).toEqual(["replica-0.json"]);
    // `deployments show` against the server prints a curl to the replica with the key.
    const show = await runCli(["--server", up.url, "deployments", "show", "users-prod"], { cwd: dir, env: { ...env, CAPSTAN_TOKEN: readFileSync(join(home, "cli-token"), "utf8").trim() } });
    expect(show.stdout, show.stderr).toContain(`curl -X POST ${url}/predictions/users -H 'authorization: Bearer ${key}'`);

    // kill -9 of up: the replica keeps running and answering.
    await killHard(up);
    expect(alive(pid)).toBe(true);
    expect(await predict(url, key)).toBe(200);

    // The next up adopts it: the same pid and address throughout, never a second serve process.
    ({ up, client } = await start());
    const pidsSeen = new Set<number>();
    const adopted = await until(
      client,
      (v) => v.state === "ready" && v.replica_status.length === 1,
      (v) => v.replica_status.forEach((r) => r.pid !== null && pidsSeen.add(r.pid)),
    );
    expect(adopted.replica_status[0]).toMatchObject({ pid, url, state: "ready", version: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await client.getDeployment("users-prod")).replica_status.map((r) => r.pid)).toEqual([pid]);
    expect([...pidsSeen]).toEqual([pid]);
    expect(servesOf(folder)).toEqual([pid]);
    expect(await predict(url, key)).toBe(200);

    // up dies again, and so does the replica; a record names a pid of another program.
    await killHard(up);
    process.kill(-pid, "SIGKILL");
    const foreign = spawn("sleep", ["120"], { stdio: "ignore" });
    const foreignPid = foreign.pid!;
    writeFileSync(
      join(folder, "replica-7.json"),
      JSON.stringify({ id: 7, pid: foreignPid, pidStart: processStartTime(foreignPid), uid: process.getuid?.(), url: "http://127.0.0.1:9", model: "users", version: 1, archive: "users-v1.mar", startedAt: 1 }),
    );
    try {
      ({ up, client } = await start());
      const replaced = await until(client, (v) => v.state === "ready" && v.replica_status.length === 1 && v.replica_status[0]!.pid !== pid);
      const newPid = replaced.replica_status[0]!.pid!;
      expect(alive(foreignPid)).toBe(true);
      expect(existsSync(join(folder, "replica-7.json"))).toBe(false);
      // Ids go on after the highest recorded, so a new replica never takes an old one's files.
      expect(Number(replaced.replica_status[0]!.replica)).toBeGreaterThan(7);
      expect(servesOf(folder)).toEqual([newPid]);

      // A graceful stop stops the replicas and leaves no record behind.
      up.child.kill("SIGTERM");
      await new Promise((resolve) => up.child.once("exit", resolve));
      expect(alive(newPid)).toBe(false);
      expect(servesOf(folder)).toEqual([]);
      expect(readdirSync(folder).filter((f) => /^replica-\d+\.json$/.test(f))).toEqual([]);

      // Deleted while no up runs: the next up adopts the replica left running and stops it with the deployment.
      ({ up, client } = await start());
      const orphan = (await until(client, (v) => v.state === "ready" && v.replica_status.length === 1)).replica_status[0]!.pid!;
      await killHard(up);
      await cli("deployments", "delete", "users-prod");
      ({ up, client } = await start());
      const deadline = Date.now() + 60_000;
      while ((await client.listDeployments()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await client.listDeployments()).toEqual([]);
      expect(alive(orphan)).toBe(false);
      expect(servesOf(folder)).toEqual([]);
      up.child.kill("SIGTERM");
      await new Promise((resolve) => up.child.once("exit", resolve));
    } finally {
      foreign.kill("SIGKILL");
      if (up.child.exitCode === null && up.child.signalCode === null) up.child.kill("SIGKILL");
    }
  });
});

/** A look-alike of a replica: `capstan serve`'s command line for the folder, /ping and the model ready, a worker in its group; it notes every authorization header it is sent. */
const LOOK_ALIKE = `
import { spawn } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
spawn("sleep", ["120"], { stdio: "ignore" });
const server = createServer((req, res) => {
  if (req.headers.authorization) appendFileSync(process.env.SEEN_FILE, req.headers.authorization + "\\n");
  if (req.url === "/become-other") { process.setgid(65534); process.setuid(65534); }
  res.setHeader("content-type", "application/json");
  res.end(req.url.endsWith("/ready") ? '{"ready":true}' : "{}");
});
server.listen(0, "127.0.0.1", () => writeFileSync(process.env.PORT_FILE, String(server.address().port)));
`;

describe("local replica adoption against look-alikes", () => {
  const KEY = "inference-key-of-users-prod";

  async function lookAlike(folder: string, options: { uid?: number; gid?: number } = {}) {
    const script = join(folder, "..", "look-alike.mjs");
    writeFileSync(script, LOOK_ALIKE, { mode: 0o644 });
    const portFile = join(folder, "..", `port-${Math.random().toString(36).slice(2)}`);
    const seenFile = join(folder, "..", `seen-${Math.random().toString(36).slice(2)}`);
    const child = spawn(process.execPath, [script, "serve", "--model-store", join(folder, "store"), "--models", "users=users-v1.mar", "--ts-config", join(folder, "config.properties")], {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, PORT_FILE: portFile, SEEN_FILE: seenFile },
      ...options,
    });
    const pid = child.pid!;
    const deadline = Date.now() + 10_000;
    while (!existsSync(portFile) || readFileSync(portFile, "utf8") === "") {
      if (Date.now() > deadline) throw new Error("the look-alike did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const url = `http://127.0.0.1:${readFileSync(portFile, "utf8")}`;
    const seen = () => (existsSync(seenFile) ? readFileSync(seenFile, "utf8") : "");
    const stop = () => {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone
      }
    };
    return { pid, pidStart: processStartTime(pid)!, url, seen, stop };
  }

  function replicaSet(folder: string): LocalReplicaSet {
    return new LocalReplicaSet({ name: "users-prod", dir: folder, command: ["false"], env: {}, inferenceKey: KEY, stopGraceMs: 1_000 });
  }

  function record(folder: string, fields: { pid: number; pidStart: number; uid?: number; url: string }): void {
    const { uid = process.getuid!(), ...rest } = fields;
    writeFileSync(join(folder, "replica-3.json"), JSON.stringify({ id: 3, ...rest, uid, model: "users", version: 1, archive: "users-v1.mar", startedAt: Date.now() }), { mode: 0o600 });
  }

  it("adopts a replica recorded with its pid, start time and owner, and stops it with its workers", async () => {
    const folder = join(tempDir("capstan-replica-adopt-"), "users-prod");
    const set = replicaSet(folder);
    const replica = await lookAlike(folder);
    try {
      const workers = servesOfGroup(replica.pid);
      expect(workers.length).toBeGreaterThan(1);
      record(folder, replica);
      expect(await set.adopt()).toEqual([replica.pid]);
      expect(replica.seen()).toContain(`Bearer ${KEY}`);
      await set.stopAll();
      // Gone or a zombie waiting for its parent (this test, or init for the orphaned worker) to reap it.
      for (const pid of workers) expect(isProcessAlive(pid, null), `pid ${pid} of the replica's group`).toBe(false);
      expect(existsSync(join(folder, "replica-3.json"))).toBe(false);
    } finally {
      replica.stop();
    }
  });

  it("forgets a record whose pid now has another start time (a reused pid): no signal, no key", async () => {
    const folder = join(tempDir("capstan-replica-adopt-"), "users-prod");
    const set = replicaSet(folder);
    const impostor = await lookAlike(folder);
    try {
      record(folder, { ...impostor, pidStart: impostor.pidStart - 1 });
      expect(await set.adopt()).toEqual([]);
      await set.stopAll();
      expect(alive(impostor.pid)).toBe(true);
      expect(impostor.seen()).toBe("");
      expect(existsSync(join(folder, "replica-3.json"))).toBe(false);
      // A record from before start times and owners were recorded cannot be trusted either.
      writeFileSync(join(folder, "replica-4.json"), JSON.stringify({ id: 4, pid: impostor.pid, url: impostor.url, model: "users", version: 1, archive: "users-v1.mar", startedAt: 1 }));
      expect(await set.adopt()).toEqual([]);
      expect(alive(impostor.pid)).toBe(true);
      expect(impostor.seen()).toBe("");
    } finally {
      impostor.stop();
    }
  });

  it("forgets a record whose owner is another user: no signal, no key", async () => {
    const folder = join(tempDir("capstan-replica-adopt-"), "users-prod");
    const set = replicaSet(folder);
    const impostor = await lookAlike(folder);
    try {
      record(folder, { ...impostor, uid: process.getuid!() + 1 });
      expect(await set.adopt()).toEqual([]);
      expect(alive(impostor.pid)).toBe(true);
      expect(impostor.seen()).toBe("");
    } finally {
      impostor.stop();
    }
  });

  // Running a process as another user, or becoming one, needs root; as another user only the record's owner can differ (above).
  it("under root: forgets another user's process on the recorded pid and start time, and drops an adopted replica whose pid stops being ours without signalling it", async () => {
    if (process.getuid?.() !== 0) return;
    const folder = join(tempDir("capstan-replica-adopt-"), "users-prod");
    const set = replicaSet(folder);
    const other = await lookAlike(folder, { uid: 65534, gid: 65534 });
    const adopted = await lookAlike(folder);
    try {
      record(folder, other);
      expect(await set.adopt()).toEqual([]);
      expect(alive(other.pid)).toBe(true);
      expect(other.seen()).toBe("");

      rmSync(join(folder, "replica-3.json"), { force: true });
      record(folder, adopted);
      expect(await set.adopt()).toEqual([adopted.pid]);
      // The pid now belongs to another user (as a reused pid would): step() drops it, stopAll() sends it nothing.
      expect((await fetch(`${adopted.url}/become-other`)).status).toBe(200);
      set.step("users", 1, "users-v1.mar", 0);
      expect(set.views()).toEqual([]);
      await set.stopAll();
      expect(alive(adopted.pid)).toBe(true);
    } finally {
      other.stop();
      adopted.stop();
    }
  });
});

/** The live processes in process group `pgid`. */
function servesOfGroup(pgid: number): number[] {
  return execFileSync("ps", ["-eo", "pid=,pgid="], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([pid, group]) => group === pgid && pid !== undefined)
    .map(([pid]) => pid!);
}
