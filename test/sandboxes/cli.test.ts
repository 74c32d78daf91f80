/**
 * `capstan sandbox …` against a real server as a signed-in user: create, list (--json too), start,
 * open (a one-time URL on the sandbox's own origin), stop, and delete only with the name as
 * confirmation; sandboxes are found by name among one's own; in-process (no server) says to start one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

let h: ServerHarness;
let alice: TestUser;
const cwd = tempDir("capstan-sandbox-cli-");

beforeAll(async () => {
  h = await openServer();
  await h.auth.createTeam("ml", null);
  alice = await h.user("alice", { ml: "editor" });
}, 60_000);

afterAll(async () => {
  if (!h) return;
  for (const row of await h.platform.store.sandboxes.list({ states: ["starting", "running", "stopping"] })) await h.platform.sandboxes.stopIdle(row.id);
  await h.close();
});

const cli = (...args: string[]) => runCli(["--server", h.url, ...args], { cwd, env: { CAPSTAN_TOKEN: alice.token, CAPSTAN_HOME: tempDir("capstan-cli-home-") } });

describe("capstan sandbox", () => {
  it("creates, lists, starts, opens, stops and deletes a sandbox by name", { timeout: 180_000 }, async () => {
    const created = await cli("--json", "sandbox", "create", "lab");
    expect(created.code, created.stderr).toBe(0);
    const view = JSON.parse(created.stdout) as { id: string; state: string; owner: string; team: string };
    expect(view).toMatchObject({ state: "stopped", owner: "alice", team: "ml" });

    const listed = await cli("sandbox", "list");
    expect(listed.stdout).toMatch(new RegExp(`lab\\s+${view.id}\\s+alice\\s+ml\\s+default\\s+stopped`));
    const json = JSON.parse((await cli("--json", "sandbox", "list", "--mine")).stdout) as { sandboxes: { id: string }[] };
    expect(json.sandboxes.map((s) => s.id)).toEqual([view.id]);

    const started = await cli("sandbox", "start", "lab");
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain(`lab (${view.id}) is running`);

    const opened = await cli("sandbox", "open", "lab");
    expect(opened.code, opened.stderr).toBe(0);
    const url = new URL(opened.stdout.trim());
    expect(url.host).toBe(`${view.id}.localhost:${new URL(h.url).port}`);
    expect(url.pathname).toBe("/_capstan/open");

    const stopped = await cli("sandbox", "stop", "lab");
    expect(stopped.stdout).toContain("is stopped");

    const unconfirmed = await cli("sandbox", "delete", "lab", "--confirm", "Lab");
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('confirm: "lab"');
    const deleted = await cli("sandbox", "delete", "lab", "--confirm", "lab");
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await h.call("GET", `/api/sandboxes/${view.id}`, { token: alice.token })).status).toBe(404);
  });

  it("says which name is wrong, and that sandboxes need a server", async () => {
    const missing = await cli("sandbox", "start", "nope");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no sandbox "nope"');
    const bad = await cli("sandbox", "create", "Lab");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('did you mean "lab"');
    const local = await runCli(["sandbox", "list"], { cwd, env: { CAPSTAN_HOME: tempDir("capstan-cli-home-") } });
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("capstan up");
  });
});
