/**
 * The storage routes over HTTP on local volumes, with the cases an attacker would try: another
 * team's volume is 404, no credential is 401, a viewer's write is 403, a read-only volume refuses
 * everyone, crafted paths (`..`, encoded, absolute, backslash, NUL) are 400 and touch nothing, a
 * symlink out of the volume is refused, and uploaded HTML comes back as an attachment under a
 * sandbox CSP with nosniff.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "./support/server-harness.js";

let s: ServerHarness;
let base: string;
let alice: TestUser; // editor of team-a
let vera: TestUser; // viewer of team-a
let bob: TestUser; // editor of team-b

interface Entry {
  name: string;
  path: string;
  type: string;
  size: number;
  modified: string | null;
  contentType?: string;
}

beforeAll(async () => {
  base = tempDir("capstan-volumes-");
  for (const folder of ["a-data", "a-results", "b-data", "outside"]) mkdirSync(join(base, folder));
  writeFileSync(join(base, "outside", "secret.txt"), "outside the volume\n");
  writeFileSync(join(base, "a-results", "report.txt"), "results\n");
  // A sibling whose name extends a volume's: prefix confusion must not reach it.
  mkdirSync(join(base, "a-dataX"));
  writeFileSync(join(base, "a-dataX", "secret.txt"), "beside the volume\n");
  s = await openServer({
    configure: (config) => {
      config.volumes = {
        "team-a-data": { kind: "local", path: join(base, "a-data"), team: "team-a", description: "Team A's data" },
        "team-a-results": { kind: "local", path: join(base, "a-results"), team: "team-a", read_only: true },
        "team-b-data": { kind: "local", path: join(base, "b-data"), team: "team-b" },
      };
    },
  });
  alice = await s.user("alice", { "team-a": "editor" });
  vera = await s.user("vera", { "team-a": "viewer" });
  bob = await s.user("bob", { "team-b": "editor" });
}, 120_000);

afterAll(async () => {
  await s.close();
});

async function upload(user: TestUser, volume: string, path: string, body: string, query = ""): Promise<{ status: number; text: string }> {
  const response = await fetch(`${s.url}/api/volumes/${volume}/files?path=${encodeURIComponent(path)}${query}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${user.token}`, "content-type": "application/octet-stream" },
    body,
  });
  return { status: response.status, text: await response.text() };
}

describe("volumes", () => {
  it("lists only the caller's teams' volumes, with whether the caller may write", async () => {
    const mine = await s.call<{ volumes: { name: string; team: string; kind: string; readOnly: boolean; canWrite: boolean; description?: string }[] }>("GET", "/api/volumes", { token: alice.token });
    expect(mine.status).toBe(200);
    // The platform's own volumes (the caller's sandbox homes, run outputs) are tested in test/storage/home-and-runs-volumes.test.ts.
    const configured = <T extends { kind: string }>(volumes: T[]) => volumes.filter((v) => v.kind !== "home" && v.kind !== "runs");
    expect(configured(mine.body.volumes)).toEqual([
      { name: "team-a-data", team: "team-a", kind: "local", description: "Team A's data", readOnly: false, canWrite: true },
      { name: "team-a-results", team: "team-a", kind: "local", readOnly: true, canWrite: false },
    ]);
    const viewer = await s.call<{ volumes: { name: string; kind: string; canWrite: boolean }[] }>("GET", "/api/volumes", { token: vera.token });
    expect(configured(viewer.body.volumes).map((v) => [v.name, v.canWrite])).toEqual([
      ["team-a-data", false],
      ["team-a-results", false],
    ]);
    const admin = await s.call<{ volumes: { name: string; kind: string }[] }>("GET", "/api/volumes", { token: s.admin.token });
    expect(configured(admin.body.volumes).map((v) => v.name)).toEqual(["team-a-data", "team-a-results", "team-b-data"]);
    expect((await s.call("GET", "/api/volumes")).status).toBe(401);
  });

  it("uploads, lists, stats, downloads with Range, and refuses to overwrite unless asked", async () => {
    expect((await upload(alice, "team-a-data", "raw/2026/data.csv", "a,b\n1,2\n")).status).toBe(201);
    expect(readFileSync(join(base, "a-data", "raw", "2026", "data.csv"), "utf8")).toBe("a,b\n1,2\n");
    const again = await upload(alice, "team-a-data", "raw/2026/data.csv", "new");
    expect(again.status).toBe(409);
    expect(again.text).toContain("exists");
    const replaced = await upload(alice, "team-a-data", "raw/2026/data.csv", "x,y\n3,4\n", "&overwrite=true");
    expect(replaced.status).toBe(201);
    expect(JSON.parse(replaced.text)).toMatchObject({ entry: { name: "data.csv", path: "raw/2026/data.csv", type: "file", size: 8, contentType: "text/csv; charset=utf-8" } });

    const root = await s.call<{ path: string; entries: Entry[] }>("GET", "/api/volumes/team-a-data/entries?path=/", { token: vera.token });
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ path: "", entries: [{ name: "raw", path: "raw", type: "folder" }] });
    const folder = await s.call<{ path: string; entries: Entry[] }>("GET", "/api/volumes/team-a-data/entries?path=raw/2026/", { token: vera.token });
    expect(folder.body.path).toBe("raw/2026");
    expect(folder.body.entries[0]).toMatchObject({ name: "data.csv", size: 8 });
    expect(folder.body.entries[0]?.modified).toMatch(/^\d{4}-\d\d-\d\dT/);

    const stat = await s.call<Entry>("GET", "/api/volumes/team-a-data/stat?path=raw/2026/data.csv", { token: vera.token });
    expect(stat.body).toMatchObject({ type: "file", size: 8 });

    const whole = await s.call("GET", "/api/volumes/team-a-data/files?path=raw/2026/data.csv", { token: vera.token });
    expect(whole.status).toBe(200);
    expect(whole.text).toBe("x,y\n3,4\n");
    expect(whole.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(whole.headers.get("content-length")).toBe("8");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(whole.headers.get("etag")).toMatch(/^".+"$/);
    expect(whole.headers.get("content-security-policy")).toBe("sandbox");
    expect(whole.headers.get("x-content-type-options")).toBe("nosniff");
    expect(whole.headers.get("content-disposition")).toMatch(/^inline; filename="data.csv"/);

    const head = await s.call("HEAD", "/api/volumes/team-a-data/files?path=raw/2026/data.csv", { token: vera.token });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("8");
    expect(head.headers.get("content-security-policy")).toBe("sandbox");
    expect(head.text).toBe("");

    const part = await s.call("GET", "/api/volumes/team-a-data/files?path=raw/2026/data.csv", { token: vera.token, headers: { range: "bytes=2-4" } });
    expect(part.status).toBe(206);
    expect(part.text).toBe("y\n3");
    expect(part.headers.get("content-range")).toBe("bytes 2-4/8");
    const tail = await s.call("GET", "/api/volumes/team-a-data/files?path=raw/2026/data.csv", { token: vera.token, headers: { range: "bytes=-3" } });
    expect(tail.status).toBe(206);
    expect(tail.text).toBe(",4\n");
    const past = await s.call("GET", "/api/volumes/team-a-data/files?path=raw/2026/data.csv", { token: vera.token, headers: { range: "bytes=100-" } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe("bytes */8");

    const download = await s.call("GET", "/api/volumes/team-a-data/files?path=raw/2026/data.csv&download=1", { token: vera.token });
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="data.csv"/);
  });

  it("serves uploaded HTML, SVG and JavaScript as attachments under a sandbox CSP with nosniff", async () => {
    for (const [name, type] of [
      ["page.html", "text/html"],
      ["logo.svg", "image/svg+xml"],
      ["app.js", "text/javascript"],
    ] as const) {
      expect((await upload(alice, "team-a-data", `web/${name}`, "<script>alert(document.cookie)</script>")).status).toBe(201);
      const answer = await s.call("GET", `/api/volumes/team-a-data/files?path=web/${name}`, { token: alice.token });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toContain(type);
      expect(answer.headers.get("content-disposition"), name).toMatch(/^attachment;/);
      expect(answer.headers.get("content-security-policy")).toBe("sandbox");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("makes folders, moves, copies, searches, zips and deletes", async () => {
    expect((await s.call("POST", "/api/volumes/team-a-data/folders", { token: alice.token, body: { path: "work/new" } })).status).toBe(201);
    expect((await upload(alice, "team-a-data", "work/new/one.txt", "one")).status).toBe(201);
    const moved = await s.call<{ entry: Entry }>("POST", "/api/volumes/team-a-data/move", { token: alice.token, body: { from: "work/new/one.txt", to: "work/renamed.txt" } });
    expect(moved.status).toBe(200);
    expect(moved.body.entry.path).toBe("work/renamed.txt");
    const copied = await s.call<{ entry: Entry }>("POST", "/api/volumes/team-a-data/copy", { token: alice.token, body: { from: "work/renamed.txt", to: "work/new/copy.txt" } });
    expect(copied.status).toBe(200);
    expect((await s.call("POST", "/api/volumes/team-a-data/copy", { token: alice.token, body: { from: "work/renamed.txt", to: "work/new/copy.txt" } })).status).toBe(409);
    expect((await s.call("POST", "/api/volumes/team-a-data/copy", { token: alice.token, body: { from: "work/renamed.txt", to: "work/new/copy.txt", overwrite: true } })).status).toBe(200);
    expect((await s.call("POST", "/api/volumes/team-a-data/move", { token: alice.token, body: { from: "work", to: "work/inside" } })).status).toBe(400);

    const found = await s.call<{ entries: Entry[] }>("GET", "/api/volumes/team-a-data/search?q=COPY", { token: vera.token });
    expect(found.body.entries.map((e) => e.path)).toEqual(["work/new/copy.txt"]);

    const zip = await fetch(`${s.url}/api/volumes/team-a-data/zip?path=work`, { headers: { authorization: `Bearer ${vera.token}` } });
    expect(zip.status).toBe(200);
    expect(zip.headers.get("content-type")).toBe("application/zip");
    expect(zip.headers.get("content-disposition")).toMatch(/^attachment; filename="work.zip"/);
    const bytes = Buffer.from(await zip.arrayBuffer());
    expect(bytes.subarray(0, 4).toString("hex")).toBe("504b0304");
    expect(bytes.includes(Buffer.from("new/copy.txt"))).toBe(true);

    const notEmpty = await s.call("DELETE", "/api/volumes/team-a-data/entries?path=work", { token: alice.token });
    expect(notEmpty.status).toBe(409);
    expect(notEmpty.text).toContain("recursive=true");
    expect((await s.call("DELETE", "/api/volumes/team-a-data/entries?path=work&recursive=true", { token: alice.token })).status).toBe(204);
    expect(existsSync(join(base, "a-data", "work"))).toBe(false);
    expect((await s.call("DELETE", "/api/volumes/team-a-data/entries?path=/&recursive=true", { token: alice.token })).status).toBe(400);
  });
});

describe("who may", () => {
  const reads = ["entries?path=", "stat?path=", "files?path=raw/2026/data.csv", "zip?path=raw", "search?q=data"];

  it("answers another team's volume exactly like one that does not exist", async () => {
    for (const route of reads) {
      const other = await s.call<{ error: { code: string; message: string } }>("GET", `/api/volumes/team-a-data/${route}`, { token: bob.token });
      const missing = await s.call<{ error: { code: string; message: string } }>("GET", `/api/volumes/no-such-volume/${route}`, { token: bob.token });
      expect(other.status, route).toBe(404);
      expect(other.body.error.message.replace("team-a-data", "X")).toBe(missing.body.error.message.replace("no-such-volume", "X"));
    }
    expect((await upload(bob, "team-a-data", "x.txt", "x")).status).toBe(404);
    expect((await s.call("POST", "/api/volumes/team-a-data/folders", { token: bob.token, body: { path: "x" } })).status).toBe(404);
    expect((await s.call("DELETE", "/api/volumes/team-a-data/entries?path=raw&recursive=true", { token: bob.token })).status).toBe(404);
    expect(existsSync(join(base, "a-data", "raw", "2026", "data.csv"))).toBe(true);
  });

  it("answers 401 without a credential on every storage route", async () => {
    for (const route of reads) expect((await s.call("GET", `/api/volumes/team-a-data/${route}`)).status, route).toBe(401);
    expect((await fetch(`${s.url}/api/volumes/team-a-data/files?path=x.txt`, { method: "PUT", body: "x" })).status).toBe(401);
    expect((await s.call("POST", "/api/volumes/team-a-data/folders", { body: { path: "x" } })).status).toBe(401);
    expect((await s.call("POST", "/api/volumes/team-a-data/move", { body: { from: "raw", to: "x" } })).status).toBe(401);
    expect((await s.call("DELETE", "/api/volumes/team-a-data/entries?path=raw")).status).toBe(401);
    expect(existsSync(join(base, "a-data", "x.txt"))).toBe(false);
  });

  it("lets a viewer read but not write (403), and nobody write to a read-only volume", async () => {
    expect((await upload(vera, "team-a-data", "v.txt", "v")).status).toBe(403);
    expect((await s.call("POST", "/api/volumes/team-a-data/folders", { token: vera.token, body: { path: "v" } })).status).toBe(403);
    expect((await s.call("POST", "/api/volumes/team-a-data/copy", { token: vera.token, body: { from: "raw", to: "v" } })).status).toBe(403);
    expect((await s.call("DELETE", "/api/volumes/team-a-data/entries?path=raw&recursive=true", { token: vera.token })).status).toBe(403);
    for (const user of [alice, s.admin]) {
      const refused = await upload(user, "team-a-results", "new.txt", "x");
      expect(refused.status).toBe(403);
      expect(refused.text).toContain("read-only");
      expect((await s.call("DELETE", "/api/volumes/team-a-results/entries?path=report.txt", { token: user.token })).status).toBe(403);
    }
    expect(readdirSync(join(base, "a-results"))).toEqual(["report.txt"]);
    expect((await s.call("GET", "/api/volumes/team-a-results/files?path=report.txt", { token: vera.token })).text).toBe("results\n");
    expect(readdirSync(join(base, "a-data")).sort()).toEqual(["raw", "web"]);
  });

  it("refuses a session's write without the CSRF token", async () => {
    const { cookie, csrf } = await s.login("alice", alice.password);
    const without = await fetch(`${s.url}/api/volumes/team-a-data/files?path=csrf.txt`, { method: "PUT", headers: { cookie }, body: "x" });
    expect(without.status).toBe(403);
    const withToken = await fetch(`${s.url}/api/volumes/team-a-data/files?path=csrf.txt`, { method: "PUT", headers: { cookie, "x-csrf-token": csrf }, body: "x" });
    expect(withToken.status).toBe(201);
    expect((await s.call("DELETE", "/api/volumes/team-a-data/entries?path=csrf.txt", { token: alice.token })).status).toBe(204);
  });
});

describe("crafted paths", () => {
  const crafted = [
    "../outside/secret.txt",
    "raw/../../outside/secret.txt",
    "%2e%2e/outside/secret.txt",
    "%252e%252e/outside/secret.txt",
    "..%2foutside%2fsecret.txt",
    "/etc/passwd",
    `${"/".repeat(2)}etc/passwd`,
    "..\\outside\\secret.txt",
    "raw\\..\\..\\outside",
    "raw/\u0000.txt",
    "C:/Windows/win.ini",
    "raw//data.csv",
    `${"x".repeat(300)}.txt`,
    "../a-dataX/secret.txt",
  ];

  it("refuses each with 400 and a message, on every route, and touches nothing outside", async () => {
    const wrong: string[] = [];
    for (const path of crafted) {
      const q = encodeURIComponent(path);
      const answers = [
        await s.call("GET", `/api/volumes/team-a-data/entries?path=${q}`, { token: alice.token }),
        await s.call("GET", `/api/volumes/team-a-data/stat?path=${q}`, { token: alice.token }),
        await s.call("GET", `/api/volumes/team-a-data/files?path=${q}`, { token: alice.token }),
        await s.call("GET", `/api/volumes/team-a-data/zip?path=${q}`, { token: alice.token }),
        await s.call("GET", `/api/volumes/team-a-data/search?q=secret&path=${q}`, { token: alice.token }),
        await upload(alice, "team-a-data", path, "pwned"),
        await s.call("POST", "/api/volumes/team-a-data/folders", { token: alice.token, body: { path } }),
        await s.call("POST", "/api/volumes/team-a-data/copy", { token: alice.token, body: { from: "raw/2026/data.csv", to: path } }),
        await s.call("POST", "/api/volumes/team-a-data/move", { token: alice.token, body: { from: path, to: "stolen.txt" } }),
        await s.call("DELETE", `/api/volumes/team-a-data/entries?path=${q}&recursive=true`, { token: alice.token }),
      ];
      answers.forEach((answer, i) => {
        // NUL is refused before the route by the server's guard (400 too).
        if (answer.status !== 400 || answer.text.includes("outside the volume\n") || answer.text.includes("beside the volume")) wrong.push(`${JSON.stringify(path)} #${i}: ${answer.status} ${answer.text.slice(0, 100)}`);
      });
    }
    expect(wrong).toEqual([]);
    expect(readFileSync(join(base, "outside", "secret.txt"), "utf8")).toBe("outside the volume\n");
    expect(readdirSync(join(base, "outside"))).toEqual(["secret.txt"]);
    expect(readdirSync(join(base, "a-dataX"))).toEqual(["secret.txt"]);
    expect(existsSync(join(base, "a-data", "stolen.txt"))).toBe(false);
    expect(s.serverErrors).toEqual([]);
  });

  it("refuses a symlink that leads out of the volume, for reads and writes", async () => {
    symlinkSync(join(base, "outside"), join(base, "a-data", "escape"));
    symlinkSync(join(base, "outside", "secret.txt"), join(base, "a-data", "secret-link.txt"));
    try {
      for (const path of ["escape/secret.txt", "secret-link.txt"]) {
        const read = await s.call("GET", `/api/volumes/team-a-data/files?path=${path}`, { token: alice.token });
        expect(read.status, path).toBe(400);
        expect(read.text).not.toContain("outside the volume\n");
        expect(read.text).toContain("outside");
        expect((await s.call("GET", `/api/volumes/team-a-data/zip?path=${path}`, { token: alice.token })).status, path).toBe(400);
      }
      expect((await s.call("GET", "/api/volumes/team-a-data/entries?path=escape", { token: alice.token })).status).toBe(400);
      expect((await upload(alice, "team-a-data", "escape/new.txt", "pwned")).status).toBe(400);
      expect(readdirSync(join(base, "outside"))).toEqual(["secret.txt"]);
    } finally {
      await s.call("DELETE", "/api/volumes/team-a-data/entries?path=escape", { token: alice.token });
      await s.call("DELETE", "/api/volumes/team-a-data/entries?path=secret-link.txt", { token: alice.token });
    }
    expect(readFileSync(join(base, "outside", "secret.txt"), "utf8")).toBe("outside the volume\n");
    expect(s.serverErrors).toEqual([]);
  });
});
