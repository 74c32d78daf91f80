/**
 * Share links over HTTP, with the cases an attacker would try: a wrong or missing password is
 * refused on every public path (listing, file, Range, zip) while the first page may say a password
 * is needed; the unlock cookie is scoped to its link; expired and revoked links are refused at once;
 * a folder link cannot reach its parent (`..`, encoded); downloads are counted; another user cannot
 * list or revoke my links; viewers cannot make links and other teams cannot see the volume.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "./support/server-harness.js";

let s: ServerHarness;
let alice: TestUser; // editor of team-a
let bob: TestUser; // editor of team-a too
let vera: TestUser; // viewer of team-a
let olga: TestUser; // editor of team-b

const PASSWORD = "correct horse battery";

interface Share {
  id: string;
  url: string;
  owner: string;
  volume: string;
  path: string;
  type: string;
  expiresAt: string | null;
  revokedAt: string | null;
  passwordProtected: boolean;
  downloads: number;
}

beforeAll(async () => {
  const base = tempDir("capstan-shares-");
  const root = join(base, "a-data");
  mkdirSync(join(root, "reports", "sub"), { recursive: true });
  mkdirSync(join(root, "private"), { recursive: true });
  writeFileSync(join(root, "reports", "q1.csv"), "quarter,revenue\nq1,100\n");
  writeFileSync(join(root, "reports", "sub", "deep.txt"), "deep\n");
  writeFileSync(join(root, "private", "top-secret.txt"), "TOP SECRET\n");
  writeFileSync(join(root, "model.bin"), "0123456789");
  s = await openServer({ configure: (config) => (config.volumes = { "team-a-data": { kind: "local", path: root, team: "team-a" } }) });
  alice = await s.user("alice", { "team-a": "editor" });
  bob = await s.user("bob", { "team-a": "editor" });
  vera = await s.user("vera", { "team-a": "viewer" });
  olga = await s.user("olga", { "team-b": "editor" });
}, 120_000);

afterAll(async () => {
  await s.close();
});

async function share(user: TestUser, body: Record<string, unknown>): Promise<Share> {
  const answer = await s.call<{ share: Share }>("POST", "/api/shares", { token: user.token, body });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.share;
}

/** A public request, without any platform credential. */
function pub(path: string, headers: Record<string, string> = {}) {
  return s.call("GET", path, { headers });
}

describe("making and listing links", () => {
  it("makes a link with an unguessable id, an expiry and a URL to the public page", async () => {
    const one = await share(alice, { volume: "team-a-data", path: "model.bin", expiresIn: "24h" });
    const two = await share(alice, { volume: "team-a-data", path: "model.bin" });
    expect(one.id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(one.id, "base64url")).toHaveLength(24);
    expect(one.id).not.toBe(two.id);
    expect(one).toMatchObject({ owner: "alice", volume: "team-a-data", path: "model.bin", type: "file", passwordProtected: false, downloads: 0, revokedAt: null });
    expect(one.url).toBe(`${s.url}/s/${one.id}`);
    const hours = (Date.parse(one.expiresAt ?? "") - Date.now()) / 3600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
  });

  it("refuses viewers (403), other teams (404), no session (401) and bad input (400)", async () => {
    expect((await s.call("POST", "/api/shares", { token: vera.token, body: { volume: "team-a-data", path: "reports" } })).status).toBe(403);
    expect((await s.call("POST", "/api/shares", { token: olga.token, body: { volume: "team-a-data", path: "reports" } })).status).toBe(404);
    expect((await s.call("POST", "/api/shares", { body: { volume: "team-a-data", path: "reports" } })).status).toBe(401);
    expect((await s.call("GET", "/api/shares")).status).toBe(401);
    expect((await s.call("DELETE", "/api/shares/abc")).status).toBe(401);
    for (const body of [
      { volume: "team-a-data", path: "../private" },
      { volume: "team-a-data", path: "reports", expiresIn: "forever" },
      { volume: "team-a-data", path: "reports", expiresIn: "400d" },
      { volume: "team-a-data", path: "reports", password: "short" },
    ]) {
      const answer = await s.call("POST", "/api/shares", { token: alice.token, body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
    expect((await s.call("POST", "/api/shares", { token: alice.token, body: { volume: "team-a-data", path: "nothing-here" } })).status).toBe(404);
    expect(s.serverErrors).toEqual([]);
  });

  it("lists only my links; another user can neither see nor revoke them; admins see all with all=true", async () => {
    const mine = await share(alice, { volume: "team-a-data", path: "reports" });
    const aliceList = await s.call<{ shares: Share[] }>("GET", "/api/shares", { token: alice.token });
    expect(aliceList.body.shares.map((x) => x.id)).toContain(mine.id);
    const bobList = await s.call<{ shares: Share[] }>("GET", "/api/shares", { token: bob.token });
    expect(bobList.body.shares).toEqual([]);
    expect((await s.call("GET", "/api/shares?all=true", { token: bob.token })).status).toBe(403);
    expect((await s.call("DELETE", `/api/shares/${mine.id}`, { token: bob.token })).status).toBe(404);
    expect((await s.call("DELETE", `/api/shares/${mine.id}`, { token: olga.token })).status).toBe(404);
    expect((await pub(`/api/public/shares/${mine.id}/entries`)).status).toBe(200);
    const all = await s.call<{ shares: Share[] }>("GET", "/api/shares?all=true", { token: s.admin.token });
    expect(all.body.shares.map((x) => x.id)).toContain(mine.id);
    expect((await s.call("DELETE", `/api/shares/${mine.id}`, { token: s.admin.token })).status).toBe(204);
  });
});

describe("a password-protected folder link", () => {
  let folder: Share;
  let other: Share;

  beforeAll(async () => {
    folder = await share(alice, { volume: "team-a-data", path: "reports", password: PASSWORD, expiresIn: "7d" });
    other = await share(alice, { volume: "team-a-data", path: "private", password: "another password 123" });
  });

  it("says a password is needed, and refuses every other path without it or with a wrong one", async () => {
    const meta = await pub(`/api/public/shares/${folder.id}`);
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual({ name: "reports", type: "folder", expiresAt: folder.expiresAt, passwordRequired: true, unlocked: false });
    const paths = [
      `/api/public/shares/${folder.id}/entries`,
      `/api/public/shares/${folder.id}/entries?path=sub`,
      `/api/public/shares/${folder.id}/files?path=q1.csv`,
      `/api/public/shares/${folder.id}/files?path=q1.csv&download=1`,
      `/api/public/shares/${folder.id}/zip`,
      `/api/public/shares/${folder.id}/zip?path=sub`,
    ];
    const wrong: string[] = [];
    for (const path of paths) {
      const attempts: Record<string, string>[] = [{}, { range: "bytes=0-5" }, { "x-capstan-share-password": "wrong password!!" }, { cookie: "capstan_share=9999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }];
      for (const headers of attempts) {
        const answer = await pub(path, headers);
        if (answer.status !== 403 || answer.text.includes("quarter") || answer.text.includes("deep")) wrong.push(`${path} ${JSON.stringify(headers)}: ${answer.status}`);
      }
    }
    expect(wrong).toEqual([]);
    const badUnlock = await s.call("POST", `/api/public/shares/${folder.id}/unlock`, { body: { password: "wrong password!!" } });
    expect(badUnlock.status).toBe(403);
    expect(badUnlock.headers.get("set-cookie")).toBeNull();
  });

  it("unlocks with the password: a cookie scoped to this link, or the header on each request", async () => {
    const unlock = await s.call("POST", `/api/public/shares/${folder.id}/unlock`, { body: { password: PASSWORD } });
    expect(unlock.status).toBe(204);
    const setCookie = unlock.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^capstan_share=/);
    expect(setCookie).toContain(`Path=/api/public/shares/${folder.id}`);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    const cookie = { cookie: setCookie.split(";")[0] ?? "" };

    expect((await pub(`/api/public/shares/${folder.id}`, cookie)).body).toMatchObject({ unlocked: true });
    const listing = await pub(`/api/public/shares/${folder.id}/entries`, cookie);
    expect(listing.status).toBe(200);
    expect(listing.body).toMatchObject({ path: "", entries: [{ name: "q1.csv", path: "q1.csv" }, { name: "sub", path: "sub", type: "folder" }] });
    const inner = await pub(`/api/public/shares/${folder.id}/entries?path=sub`, cookie);
    expect(inner.body).toMatchObject({ path: "sub", entries: [{ name: "deep.txt", path: "sub/deep.txt" }] });
    const file = await pub(`/api/public/shares/${folder.id}/files?path=q1.csv`, cookie);
    expect(file.status).toBe(200);
    expect(file.text).toBe("quarter,revenue\nq1,100\n");
    expect(file.headers.get("content-security-policy")).toBe("sandbox");
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    const range = await pub(`/api/public/shares/${folder.id}/files?path=q1.csv`, { ...cookie, range: "bytes=0-6" });
    expect(range.status).toBe(206);
    expect(range.text).toBe("quarter");
    const zip = await fetch(`${s.url}/api/public/shares/${folder.id}/zip`, { headers: cookie });
    expect(zip.status).toBe(200);
    expect(zip.headers.get("content-disposition")).toMatch(/^attachment; filename="reports.zip"/);
    const zipBytes = Buffer.from(await zip.arrayBuffer());
    expect(zipBytes.includes(Buffer.from("sub/deep.txt"))).toBe(true);
    expect(zipBytes.includes(Buffer.from("top-secret"))).toBe(false);

    const header = await pub(`/api/public/shares/${folder.id}/files?path=sub/deep.txt`, { "x-capstan-share-password": PASSWORD });
    expect(header.status).toBe(200);
    expect(header.text).toBe("deep\n");

    // The cookie of one link does not open another.
    const otherLink = await pub(`/api/public/shares/${other.id}/entries`, { cookie: `capstan_share=${cookie.cookie.split("=")[1] ?? ""}` });
    expect(otherLink.status).toBe(403);
  });

  it("cannot reach the shared folder's parent by any spelling", async () => {
    const headers = { "x-capstan-share-password": PASSWORD };
    const wrong: string[] = [];
    for (const path of ["..", "../private", "../private/top-secret.txt", "sub/../../private/top-secret.txt", "%2e%2e/private/top-secret.txt", "%252e%252e/private", "..%2fprivate%2ftop-secret.txt", "/private/top-secret.txt", "..\\private\\top-secret.txt", "sub/\u0000"]) {
      const q = encodeURIComponent(path);
      for (const route of ["entries", "files", "zip"]) {
        const answer = await pub(`/api/public/shares/${folder.id}/${route}?path=${q}`, headers);
        if (answer.status !== 400 || answer.text.includes("TOP SECRET")) wrong.push(`${route} ${JSON.stringify(path)}: ${answer.status} ${answer.text.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(s.serverErrors).toEqual([]);
  });
});

describe("password guessing", () => {
  it("refuses a link's guesses after 10 wrong ones, the right password included, on every path that takes one", async () => {
    const guarded = await share(alice, { volume: "team-a-data", path: "model.bin", password: PASSWORD });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await s.call("POST", `/api/public/shares/${guarded.id}/unlock`, { body: { password: `wrong guess ${i}!` } })).status);
    for (let i = 0; i < 3; i++) statuses.push((await pub(`/api/public/shares/${guarded.id}/files`, { "x-capstan-share-password": `wrong guess h${i}` })).status);
    for (let i = 0; i < 3; i++) statuses.push((await pub(`/api/public/shares/${guarded.id}`, { "x-capstan-share-password": `wrong guess m${i}` })).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 403, 403, 200, 200, 200]);
    const refused = await s.call("POST", `/api/public/shares/${guarded.id}/unlock`, { body: { password: PASSWORD } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await pub(`/api/public/shares/${guarded.id}/files`, { "x-capstan-share-password": PASSWORD })).status).toBe(429);
    // Another link is not held back by this one's guesses.
    const other = await share(alice, { volume: "team-a-data", path: "model.bin", password: PASSWORD });
    expect((await pub(`/api/public/shares/${other.id}/files`, { "x-capstan-share-password": PASSWORD })).status).toBe(200);
  });
});

describe("a file link", () => {
  it("counts downloads from the first byte and zips, and serves nothing but its file", async () => {
    const file = await share(alice, { volume: "team-a-data", path: "model.bin" });
    const meta = await pub(`/api/public/shares/${file.id}`);
    expect(meta.body).toEqual({ name: "model.bin", type: "file", size: 10, expiresAt: file.expiresAt, passwordRequired: false, unlocked: true });
    expect((await pub(`/api/public/shares/${file.id}/files`)).text).toBe("0123456789");
    expect((await pub(`/api/public/shares/${file.id}/files?download=1`)).headers.get("content-disposition")).toMatch(/^attachment/);
    expect((await pub(`/api/public/shares/${file.id}/files`, { range: "bytes=5-" })).text).toBe("56789");
    expect((await pub(`/api/public/shares/${file.id}/zip`)).status).toBe(200);
    expect((await pub(`/api/public/shares/${file.id}/files?path=../reports/q1.csv`)).status).toBe(400);
    expect((await pub(`/api/public/shares/${file.id}/files?path=other.bin`)).status).toBe(400);
    const listed = await s.call<{ shares: Share[] }>("GET", "/api/shares", { token: alice.token });
    expect(listed.body.shares.find((x) => x.id === file.id)?.downloads).toBe(3);
  });

  it("stops working at once when revoked, and when expired", async () => {
    const file = await share(alice, { volume: "team-a-data", path: "model.bin", password: PASSWORD });
    const unlock = await s.call("POST", `/api/public/shares/${file.id}/unlock`, { body: { password: PASSWORD } });
    const cookie = { cookie: (unlock.headers.get("set-cookie") ?? "").split(";")[0] ?? "" };
    expect((await pub(`/api/public/shares/${file.id}/files`, cookie)).status).toBe(200);
    expect((await s.call("DELETE", `/api/shares/${file.id}`, { token: alice.token })).status).toBe(204);
    for (const path of ["", "/files", "/entries", "/zip"]) {
      const answer = await pub(`/api/public/shares/${file.id}${path}`, { ...cookie, "x-capstan-share-password": PASSWORD });
      expect(answer.status, path).toBe(404);
      expect(answer.text).not.toContain("0123456789");
    }
    expect((await s.call<{ error: { code: string } }>("GET", `/api/public/shares/${file.id}`)).body.error.code).toBe("share_revoked");
    const listed = await s.call<{ shares: Share[] }>("GET", "/api/shares", { token: alice.token });
    expect(listed.body.shares.find((x) => x.id === file.id)?.revokedAt).not.toBeNull();

    const brief = await share(alice, { volume: "team-a-data", path: "model.bin", expiresIn: 1 });
    expect((await pub(`/api/public/shares/${brief.id}/files`)).status).toBe(200);
    await sleep(1100);
    const expired = await s.call<{ error: { code: string } }>("GET", `/api/public/shares/${brief.id}/files`);
    expect(expired.status).toBe(404);
    expect(expired.body.error.code).toBe("share_expired");
    expect((await pub("/api/public/shares/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).status).toBe(404);
    expect((await pub("/api/public/shares/short")).status).toBe(404);
    expect(s.serverErrors).toEqual([]);
  });
});
