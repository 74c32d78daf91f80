/**
 * Local replicas across restarts of a real `capstan up`: a replica outlives a kill -9 of `up`, keeps
 * answering, and the next `up` adopts it (same pid and port, no second `capstan serve` of the
 * deployment); a replica that died meanwhile is replaced, a record whose pid is another program's is
 * forgotten without signalling it; a graceful stop of `up` stops the replicas and leaves no record;
 * a deployment deleted while no `up` runs has its left-over replica stopped by the next one.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HttpClient } from "../../src/cli/client.js";
import type { DeploymentView } from "../../src/operations/index.js";
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
    writeFileSync(join(folder, "replica-7.json"), JSON.stringify({ id: 7, pid: foreignPid, url: "http://127.0.0.1:9", model: "users", version: 1, archive: "users-v1.mar", startedAt: 1 }));
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
