/**
 * `capstan storage` against a real server as a signed-in team member: volumes addressed as
 * VOLUME:PATH and local files by plain paths; cp both ways and between volumes, -r for folders, a
 * download that goes on from its .capstan-part, mv, rm, mkdir and --json on each; bad input (an
 * unknown volume, "..", a missing local file, a folder without -r) gets a message naming it and exit
 * code 2; share links print their URL and work without a session, with their password.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

let h: ServerHarness;
let alice: TestUser;
let volumes: string;
let cwd: string;

beforeAll(async () => {
  volumes = tempDir("capstan-storage-cli-volumes-");
  for (const folder of ["data", "scratch", "other"]) mkdirSync(join(volumes, folder));
  h = await openServer({
    configure: (config) => {
      config.volumes = {
        "team-data": { kind: "local", path: join(volumes, "data"), team: "ml", description: "ML data" },
        scratch: { kind: "local", path: join(volumes, "scratch"), team: "ml" },
        "other-team": { kind: "local", path: join(volumes, "other"), team: "finance" },
      };
    },
  });
  await h.auth.createTeam("ml", null);
  await h.auth.createTeam("finance", null);
  alice = await h.user("alice", { ml: "editor" });
  cwd = tempDir("capstan-storage-cli-");
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const cli = (...args: string[]) => runCli(["--server", h.url, ...args], { cwd, env: { CAPSTAN_TOKEN: alice.token, CAPSTAN_HOME: join(cwd, "home") } });

async function json<T>(...args: string[]): Promise<T> {
  const result = await cli("--json", ...args);
  expect(result.code, `capstan ${args.join(" ")}: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

describe("capstan storage", () => {
  it("lists the caller's volumes only", { timeout: 120_000 }, async () => {
    const table = await cli("storage", "ls");
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/team-data\s+ml\s+local\s+read-write\s+ML data/);
    expect(table.stdout).not.toContain("other-team");
    const listed = await json<{ volumes: { name: string }[] }>("storage", "ls");
    // beside the team's volumes: the caller's own sandbox homes and the runs of its teams (docs/storage.md)
    expect(listed.volumes.map((v) => v.name).sort()).toEqual(["home-alice", "runs", "scratch", "team-data"]);
    // Both are addressed like any volume: alice has no sandbox and the team no runs yet.
    expect(await json<{ entries: unknown[] }>("storage", "ls", "home-alice:")).toMatchObject({ entries: [] });
    expect(await json<{ entries: unknown[] }>("storage", "ls", "runs:")).toMatchObject({ entries: [] });
    const writeRuns = await cli("storage", "mkdir", "runs:x");
    expect(writeRuns.code, writeRuns.stderr).toBe(2);
    expect(writeRuns.stderr).toMatch(/read-only/);
  });

  it("copies a file up, lists it, copies it back down byte for byte, and a folder both ways with -r", { timeout: 300_000 }, async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(cwd, "data.bin"), bytes);
    const up = await json<{ copied: { to: string; size: number }[] }>("storage", "cp", "./data.bin", "team-data:raw/2026-11-30.bin");
    expect(up.copied).toEqual([expect.objectContaining({ to: "team-data:raw/2026-11-30.bin", size: bytes.length })]);
    expect(sha(readFileSync(join(volumes, "data", "raw", "2026-11-30.bin")))).toBe(sha(bytes));

    // A second copy to the same name is refused unless --overwrite.
    const again = await cli("storage", "cp", "data.bin", "team-data:raw/2026-11-30.bin");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('"raw/2026-11-30.bin" already exists');
    expect(again.stderr).toContain("pass --overwrite to replace it");
    expect((await cli("storage", "cp", "--overwrite", "data.bin", "team-data:raw/2026-11-30.bin")).code).toBe(0);

    // A folder target receives the file under its own name.
    expect((await cli("storage", "cp", "data.bin", "team-data:raw")).code).toBe(0);
    const listing = await json<{ type: string; entries: { name: string; type: string; size: number }[] }>("storage", "ls", "team-data:raw");
    expect(listing.type).toBe("folder");
    expect(listing.entries.map((e) => [e.name, e.type, e.size])).toEqual([
      ["2026-11-30.bin", "file", bytes.length],
      ["data.bin", "file", bytes.length],
    ]);
    const table = await cli("storage", "ls", "team-data:");
    expect(table.stdout).toMatch(/folder\s+-\s+\S+.*raw\//);

    const down = await cli("storage", "cp", "team-data:raw/data.bin", "./back.bin");
    expect(down.code, down.stderr).toBe(0);
    expect(sha(readFileSync(join(cwd, "back.bin")))).toBe(sha(bytes));

    mkdirSync(join(cwd, "reports", "2026"), { recursive: true });
    writeFileSync(join(cwd, "reports", "summary.md"), "# Summary\n");
    writeFileSync(join(cwd, "reports", "2026", "11.csv"), "a,b\n1,2\n");
    const noR = await cli("storage", "cp", "reports", "team-data:");
    expect(noR.code).toBe(2);
    expect(noR.stderr).toContain('"reports" is a folder; use -r');
    expect((await cli("storage", "cp", "-r", "reports", "team-data:")).code).toBe(0);
    expect(readFileSync(join(volumes, "data", "reports", "2026", "11.csv"), "utf8")).toBe("a,b\n1,2\n");
    const fetched = await cli("storage", "cp", "-r", "team-data:reports", "./fetched");
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(readFileSync(join(cwd, "fetched", "summary.md"), "utf8")).toBe("# Summary\n");
    expect(readFileSync(join(cwd, "fetched", "2026", "11.csv"), "utf8")).toBe("a,b\n1,2\n");
  });

  it("goes on with a download from the part a broken one left behind", { timeout: 120_000 }, async () => {
    const bytes = randomBytes(1024 * 1024);
    writeFileSync(join(volumes, "data", "resume.bin"), bytes);
    // The first half arrived before the connection broke.
    writeFileSync(join(cwd, "resume.bin.capstan-part"), bytes.subarray(0, 512 * 1024));
    const down = await json<{ copied: { size: number }[] }>("storage", "cp", "team-data:resume.bin", "resume.bin");
    expect(down.copied[0]?.size).toBe(bytes.length);
    expect(sha(readFileSync(join(cwd, "resume.bin")))).toBe(sha(bytes));
    expect(existsSync(join(cwd, "resume.bin.capstan-part"))).toBe(false);
  });

  it("copies within a volume and between volumes, moves, makes folders and deletes", { timeout: 300_000 }, async () => {
    writeFileSync(join(volumes, "data", "model.txt"), "weights\n");
    expect((await json<{ entry: { path: string; type: string } }>("storage", "mkdir", "team-data:models/v1")).entry).toMatchObject({ path: "models/v1", type: "folder" });
    expect((await cli("storage", "cp", "team-data:model.txt", "team-data:models/v1/")).code).toBe(0);
    expect(readFileSync(join(volumes, "data", "models", "v1", "model.txt"), "utf8")).toBe("weights\n");
    const across = await cli("storage", "cp", "-r", "team-data:models", "scratch:");
    expect(across.code, across.stderr).toBe(0);
    expect(readFileSync(join(volumes, "scratch", "models", "v1", "model.txt"), "utf8")).toBe("weights\n");

    const moved = await json<{ entry: { path: string } }>("storage", "mv", "team-data:model.txt", "team-data:models");
    expect(moved.entry.path).toBe("models/model.txt");
    expect(existsSync(join(volumes, "data", "model.txt"))).toBe(false);
    const renamed = await cli("storage", "mv", "team-data:models/model.txt", "team-data:models/weights.txt");
    expect(renamed.stdout.trim()).toBe("team-data:models/model.txt -> team-data:models/weights.txt");
    const acrossMv = await cli("storage", "mv", "team-data:models", "scratch:elsewhere");
    expect(acrossMv.code).toBe(2);
    expect(acrossMv.stderr).toContain("mv moves within one volume");

    const folder = await cli("storage", "rm", "scratch:models");
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain("scratch:models is a folder; use -r");
    expect((await json<{ deleted: string }>("storage", "rm", "-r", "scratch:models")).deleted).toBe("scratch:models");
    expect(existsSync(join(volumes, "scratch", "models"))).toBe(false);
    expect((await cli("storage", "rm", "team-data:models/weights.txt")).stdout).toContain("deleted team-data:models/weights.txt");
  });

  it("names what is wrong in bad input and exits 2", { timeout: 300_000 }, async () => {
    const unknown = await cli("storage", "ls", "nope:raw");
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toMatch(/nope/);
    // Another team's volume reads exactly as one that does not exist.
    const otherTeam = await cli("storage", "ls", "other-team:");
    expect(otherTeam.code).toBe(2);
    expect(otherTeam.stderr.replaceAll("other-team", "nope")).toBe((await cli("storage", "ls", "nope:")).stderr);

    writeFileSync(join(cwd, "small.txt"), "small\n");
    const dotdot = await cli("storage", "cp", "small.txt", "team-data:../escape.bin");
    expect(dotdot.code).toBe(2);
    expect(dotdot.stderr).toContain('".."');
    expect(existsSync(join(volumes, "escape.bin"))).toBe(false);

    const missing = await cli("storage", "cp", "./no-such-file.csv", "team-data:raw/");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no local file or folder "./no-such-file.csv"');

    const bothLocal = await cli("storage", "cp", "a.txt", "b.txt");
    expect(bothLocal.code).toBe(2);
    expect(bothLocal.stderr).toContain("one side must be a volume, written VOLUME:PATH");

    const notVolume = await cli("storage", "rm", "./local.txt");
    expect(notVolume.code).toBe(2);
    expect(notVolume.stderr).toContain("write it as VOLUME:PATH");

    const badExpiry = await cli("storage", "share", "team-data:raw", "--expires", "soon");
    expect(badExpiry.code).toBe(2);
    expect(badExpiry.stderr).toContain('--expires "soon"');

    const help = await cli("storage", "cp", "--help");
    expect(help.stdout).toContain("./a:b");

    const local = await runCli(["storage", "ls"], { cwd, env: { CAPSTAN_HOME: tempDir("capstan-cli-home-") } });
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("capstan up");
  });
});

describe("capstan storage share", () => {
  it("prints a link that works without a session and with the password only, lists it with its downloads, and unshare revokes it at once", { timeout: 300_000 }, async () => {
    writeFileSync(join(volumes, "data", "shared.csv"), "x,y\n1,2\n");
    const made = await cli("storage", "share", "team-data:shared.csv", "--expires", "24h", "--password", "open sesame");
    expect(made.code, made.stderr).toBe(0);
    const url = made.stdout.trim();
    const id = /\/s\/([A-Za-z0-9_-]{22,})$/.exec(url)?.[1];
    expect(id, url).toBeDefined();

    const file = `${h.url}/api/public/shares/${id}/files`;
    expect([401, 403]).toContain((await fetch(file)).status);
    expect([401, 403]).toContain((await fetch(file, { headers: { "x-capstan-share-password": "wrong" } })).status);
    const ok = await fetch(file, { headers: { "x-capstan-share-password": "open sesame" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("x,y\n1,2\n");

    const listed = await json<{ shares: { id: string; path: string; passwordProtected: boolean; downloads: number; expiresAt: string }[] }>("storage", "shares");
    const share = listed.shares.find((s) => s.id === id);
    expect(share).toMatchObject({ path: "shared.csv", passwordProtected: true, downloads: 1 });
    expect(Date.parse(share?.expiresAt ?? "") - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect((await cli("storage", "shares")).stdout).toMatch(new RegExp(`${id}\\s+team-data:shared.csv\\s+file`));

    expect((await cli("storage", "unshare", id ?? "")).stdout.trim()).toBe(`revoked ${id}`);
    expect([404, 410]).toContain((await fetch(file, { headers: { "x-capstan-share-password": "open sesame" } })).status);
  });
});
