/**
 * The storage routes on an S3 volume of a real S3 server (versitygw, test/support/s3-testenv.ts),
 * its keys read from the owning team's secret: upload, list, Range download, move, copy, zip,
 * search and delete, as on a local volume.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Testenv, type S3Testenv } from "../support/s3-testenv.js";
import { openServer, type ServerHarness, type TestUser } from "./support/server-harness.js";

let s3: S3Testenv;
let s: ServerHarness;
let alice: TestUser;

beforeAll(async () => {
  s3 = await startS3Testenv();
  const bucket = await s3.createBucket();
  s = await openServer({
    configure: (config) => {
      config.volumes = {
        "team-a-lake": { kind: "s3", endpoint: s3.endpoint, region: s3.region, bucket, prefix: "lake", path_style: true, credentials: { secret: "lake-keys" }, team: "team-a" },
      };
    },
  });
  await s.platform.secrets.set("team-a", "lake-keys", { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey });
  alice = await s.user("alice", { "team-a": "editor" });
}, 120_000);

afterAll(async () => {
  await s?.close();
  await s3?.stop();
});

describe("an S3 volume over HTTP", () => {
  it("uploads, lists, downloads a range, moves, copies, searches, zips and deletes", async () => {
    const put = await fetch(`${s.url}/api/volumes/team-a-lake/files?path=raw/data.csv`, { method: "PUT", headers: { authorization: `Bearer ${alice.token}` }, body: "a,b\n1,2\n" });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ entry: { path: "raw/data.csv", size: 8, type: "file" } });

    const root = await s.call<{ entries: { name: string; type: string }[] }>("GET", "/api/volumes/team-a-lake/entries?path=", { token: alice.token });
    expect(root.status).toBe(200);
    expect(root.body.entries).toMatchObject([{ name: "raw", type: "folder" }]);

    const part = await s.call("GET", "/api/volumes/team-a-lake/files?path=raw/data.csv", { token: alice.token, headers: { range: "bytes=4-6" } });
    expect(part.status).toBe(206);
    expect(part.text).toBe("1,2");
    expect(part.headers.get("content-range")).toBe("bytes 4-6/8");
    expect(part.headers.get("content-security-policy")).toBe("sandbox");

    expect((await s.call("POST", "/api/volumes/team-a-lake/copy", { token: alice.token, body: { from: "raw", to: "backup" } })).status).toBe(200);
    expect((await s.call("POST", "/api/volumes/team-a-lake/move", { token: alice.token, body: { from: "backup/data.csv", to: "backup/renamed.csv" } })).status).toBe(200);
    const found = await s.call<{ entries: { path: string }[] }>("GET", "/api/volumes/team-a-lake/search?q=renamed", { token: alice.token });
    expect(found.body.entries.map((e) => e.path)).toEqual(["backup/renamed.csv"]);

    const zip = await fetch(`${s.url}/api/volumes/team-a-lake/zip?path=backup`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(zip.status).toBe(200);
    expect(Buffer.from(await zip.arrayBuffer()).includes(Buffer.from("renamed.csv"))).toBe(true);

    expect((await s.call("DELETE", "/api/volumes/team-a-lake/entries?path=backup&recursive=true", { token: alice.token })).status).toBe(204);
    const after = await s.call<{ entries: { name: string }[] }>("GET", "/api/volumes/team-a-lake/entries", { token: alice.token });
    expect(after.body.entries.map((e) => e.name)).toEqual(["raw"]);
    expect(s.serverErrors).toEqual([]);
  });
});
