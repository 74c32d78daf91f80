/**
 * Resumable uploads (tus 1.0.0) to a local volume: a real tus-js-client upload interrupted part-way
 * and resumed from its URL, raw POST/PATCH/HEAD steps showing that nothing is under the final name
 * until the last byte and that the staged bytes go when it is done, and the attacker's cases: no
 * session, a viewer, another team, another user's upload, a read-only volume, a crafted path.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import * as tus from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "./support/server-harness.js";

let s: ServerHarness;
let root: string;
let alice: TestUser;
let bob: TestUser;
let vera: TestUser;
let olga: TestUser;

beforeAll(async () => {
  const base = tempDir("capstan-uploads-");
  root = join(base, "a-data");
  mkdirSync(root);
  mkdirSync(join(base, "a-results"));
  s = await openServer({
    configure: (config) =>
      (config.volumes = {
        "team-a-data": { kind: "local", path: root, team: "team-a" },
        "team-a-results": { kind: "local", path: join(base, "a-results"), team: "team-a", read_only: true },
      }),
  });
  alice = await s.user("alice", { "team-a": "editor" });
  bob = await s.user("bob", { "team-a": "editor" });
  vera = await s.user("vera", { "team-a": "viewer" });
  olga = await s.user("olga", { "team-b": "editor" });
}, 120_000);

afterAll(async () => {
  await s.close();
});

const b64 = (text: string) => Buffer.from(text).toString("base64");

function create(user: TestUser | undefined, volume: string, metadata: string, length: number) {
  return fetch(`${s.url}/api/volumes/${volume}/uploads`, {
    method: "POST",
    headers: { ...(user ? { authorization: `Bearer ${user.token}` } : {}), "tus-resumable": "1.0.0", "upload-length": String(length), "upload-metadata": metadata },
  });
}

function patch(user: TestUser, location: string, offset: number, bytes: Buffer) {
  return fetch(`${s.url}${location}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${user.token}`, "tus-resumable": "1.0.0", "upload-offset": String(offset), "content-type": "application/offset+octet-stream" },
    body: bytes,
  });
}

function staged(): string[] {
  const dir = join(s.home, "uploads");
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe("tus uploads", () => {
  it("takes an upload in parts; the file appears under its name only with the last byte, and the staged bytes go", async () => {
    const created = await create(alice, "team-a-data", `path ${b64("raw/parts.bin")}`, 10);
    expect(created.status).toBe(201);
    const location = created.headers.get("location") ?? "";
    expect(location).toMatch(/^\/api\/volumes\/team-a-data\/uploads\/[0-9a-f]{48}$/);
    const first = await patch(alice, location, 0, Buffer.from("0123"));
    expect(first.status).toBe(204);
    expect(first.headers.get("upload-offset")).toBe("4");
    expect(existsSync(join(root, "raw", "parts.bin"))).toBe(false);
    expect(staged().length).toBeGreaterThan(0);
    const head = await fetch(`${s.url}${location}`, { method: "HEAD", headers: { authorization: `Bearer ${alice.token}`, "tus-resumable": "1.0.0" } });
    expect(head.status).toBe(200);
    expect(head.headers.get("upload-offset")).toBe("4");
    // Another editor of the same team cannot touch it.
    expect((await patch(bob, location, 4, Buffer.from("456789"))).status).toBe(404);
    expect((await fetch(`${s.url}${location}`, { method: "HEAD", headers: { authorization: `Bearer ${bob.token}`, "tus-resumable": "1.0.0" } })).status).toBe(404);
    const last = await patch(alice, location, 4, Buffer.from("456789"));
    expect(last.status).toBe(204);
    expect(readFileSync(join(root, "raw", "parts.bin"), "utf8")).toBe("0123456789");
    expect(staged()).toEqual([]);
  });

  it("resumes a real tus-js-client upload after it was interrupted part-way", async () => {
    const data = randomBytes(5 * 1024 * 1024);
    const common = {
      chunkSize: 1024 * 1024,
      headers: { authorization: `Bearer ${alice.token}` },
      metadata: { path: "raw/resumed.bin" },
      retryDelays: [],
    };
    const url = await new Promise<string>((resolve, reject) => {
      const upload: tus.Upload = new tus.Upload(data, {
        ...common,
        endpoint: `${s.url}/api/volumes/team-a-data/uploads`,
        onChunkComplete: (_chunk, sent) => {
          if (sent >= 2 * 1024 * 1024) {
            void upload.abort().then(() => resolve(upload.url ?? ""));
          }
        },
        onError: reject,
      });
      upload.start();
    });
    expect(url).toContain("/api/volumes/team-a-data/uploads/");
    expect(existsSync(join(root, "raw", "resumed.bin"))).toBe(false);
    let resumedFrom = -1;
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(data, {
        ...common,
        uploadUrl: url,
        onProgress: (sent) => {
          if (resumedFrom < 0) resumedFrom = sent;
        },
        onSuccess: () => resolve(),
        onError: reject,
      });
      upload.start();
    });
    // The second client started past the bytes the first one had sent.
    expect(resumedFrom).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(readFileSync(join(root, "raw", "resumed.bin")).equals(data)).toBe(true);
    expect(staged()).toEqual([]);
    expect(s.serverErrors).toEqual([]);
  });

  it("refuses no session (401), a viewer (403), another team (404), a read-only volume (403), a crafted or existing path", async () => {
    const metadata = `path ${b64("raw/x.bin")}`;
    expect((await create(undefined, "team-a-data", metadata, 3)).status).toBe(401);
    expect((await create(vera, "team-a-data", metadata, 3)).status).toBe(403);
    expect((await create(olga, "team-a-data", metadata, 3)).status).toBe(404);
    expect((await create(alice, "team-a-results", metadata, 3)).status).toBe(403);
    for (const path of ["../outside.bin", "%2e%2e/outside.bin", "/etc/passwd", "a\\b", ""]) {
      const answer = await create(alice, "team-a-data", `path ${b64(path)}`, 3);
      expect(answer.status, path).toBe(400);
    }
    expect((await create(alice, "team-a-data", "", 3)).status).toBe(400);
    const existing = await create(alice, "team-a-data", `path ${b64("raw/parts.bin")}`, 3);
    expect(existing.status).toBe(409);
    expect(await existing.text()).toContain("overwrite");
    const replace = await create(alice, "team-a-data", `path ${b64("raw/parts.bin")},overwrite ${b64("true")}`, 3);
    expect(replace.status).toBe(201);
    const done = await patch(alice, replace.headers.get("location") ?? "", 0, Buffer.from("new"));
    expect(done.status).toBe(204);
    expect(readFileSync(join(root, "raw", "parts.bin"), "utf8")).toBe("new");
    expect((await patch(alice, "/api/volumes/team-a-data/uploads/not-an-id", 0, Buffer.from("x"))).status).toBe(404);
    expect(readdirSync(root).sort()).toEqual(["raw"]);
    expect(s.serverErrors).toEqual([]);
  });
});
