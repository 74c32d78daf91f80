/**
 * `capstan deployments` as scripts use it, on a home without a running server: create at an alias,
 * list and show (--json), the inference key (never in list or show answers), --no-token-auth, scale,
 * rollback with nothing to go back to, delete; and bad input that names the flag or field, with exit
 * code 2.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";
import { writeMar } from "./support/mar-builder.js";

describe("capstan deployments", () => {
  it("creates, lists, shows, scales and deletes deployments, and refuses bad input clearly", { timeout: 180_000 }, async () => {
    const dir = tempDir("capstan-deployments-cli-");
    const env = { CAPSTAN_HOME: join(dir, "home") };
    const cli = (...args: string[]) => runCli(args, { cwd: dir, env });
    writeMar(join(dir, "users.mar"), { modelName: "users", handler: "handler.py", files: { "handler.py": "def handle(data, context):\n    return data\n" } });
    expect((await cli("models", "register", "users", "users.mar")).code).toBe(0);
    expect((await cli("models", "alias", "users", "1", "production")).code).toBe(0);

    const created = await cli("--json", "deployments", "create", "users-prod", "users@production", "--replicas", "2");
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: "users-prod", model: "users", ref: "production", version: 1, replicas: 2, target: "local", state: "pending" });
    const list = await cli("--json", "deployments", "list");
    expect((JSON.parse(list.stdout) as { deployments: Array<{ name: string; token_auth: boolean }> }).deployments.map((d) => [d.name, d.token_auth])).toEqual([["users-prod", true]]);
    const show = await cli("deployments", "show", "users-prod");
    expect(show.stdout).toContain("users-prod (team default): users@production -> version 1, 2 replica(s), local, token authorization on, pending");
    const key = await cli("deployments", "key", "users-prod");
    expect(key.code, key.stderr).toBe(0);
    expect(key.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.parse((await cli("--json", "deployments", "key", "users-prod")).stdout)).toEqual({ name: "users-prod", key: key.stdout.trim(), header: `Authorization: Bearer ${key.stdout.trim()}` });
    for (const answer of [list.stdout, created.stdout, (await cli("--json", "deployments", "show", "users-prod")).stdout]) expect(answer).not.toContain(key.stdout.trim());
    const open = await cli("--json", "deployments", "create", "users-open", "users@1", "--no-token-auth");
    expect(JSON.parse(open.stdout)).toMatchObject({ name: "users-open", ref: "1", token_auth: false });
    const noKey = await cli("deployments", "key", "users-open");
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("name: deployment users-open runs without token authorization (token_auth false); its replicas need no key");
    expect((await cli("deployments", "scale", "users-prod", "3")).stdout).toContain("users-prod: 3 replica(s)");
    const rollback = await cli("deployments", "rollback", "users-prod");
    expect(rollback.code).toBe(2);
    expect(rollback.stderr).toContain("has served only version 1; there is nothing to roll back to");

    const bad: Array<[string[], string]> = [
      [["deployments", "create", "d", "users"], '"users": expected MODEL@ALIAS (users@production) or MODEL@VERSION (users@3)'],
      [["deployments", "create", "d", "users@canary"], 'version: model users has no version or alias "canary"'],
      [["deployments", "create", "d", "users@production", "--target", "cloud"], '--target "cloud": expected local or kubernetes'],
      [["deployments", "create", "d", "users@production", "--replicas", "two"], '--replicas "two": expected a whole number'],
      [["deployments", "create", "d", "users@production", "--target", "kubernetes"], "cluster: no Kubernetes cluster is configured"],
      [["deployments", "create", "D!", "users@production"], 'name: "D!" is not a deployment name'],
      [["deployments", "scale", "users-prod", "-1"], ""],
      [["deployments", "show", "nope"], 'name: no deployment "nope"'],
    ];
    for (const [args, message] of bad) {
      const result = await cli(...args);
      expect(result.code, args.join(" ")).not.toBe(0);
      expect(result.stderr).toContain(message);
    }
    const deleted = await cli("deployments", "delete", "users-prod");
    expect(deleted.stdout).toContain("users-prod: deleting");
    const help = (await cli("deployments", "--help")).stdout;
    for (const command of ["create [options] <name> <model@ref>", "list [options]", "show <name>", "key <name>", "scale <name> <replicas>", "rollback <name>", "delete <name>"]) expect(help).toContain(command);
  });
});
