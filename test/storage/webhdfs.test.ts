/**
 * What the `webhdfs` volume does beyond the storage contract: where it lets a namenode send it
 * (a fake, hostile namenode names other hosts, paths, schemes, credentials in URLs, link-local
 * addresses; the bystander servers it names must see no request), that a datanode's own redirect
 * is not followed, that a delegation token from the team's secrets replaces user.name, and the
 * `volumes:` schema and registry for the kind, and the storage routes on a webhdfs volume with
 * their security rules (another team, no session, a viewer writing, `..`), against the real
 * minicluster.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import { StorageError, VolumeRegistry, WebHdfsStorage } from "../../src/storage/index.js";
import { webhdfsBackend } from "./backends.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface FakeServer {
  url: string;
  port: number;
  requests: string[];
  handle: Handler;
  server: Server;
}

async function fakeServer(host = "127.0.0.1"): Promise<FakeServer> {
  const fake: FakeServer = { url: "", port: 0, requests: [], handle: (_, response) => response.end(), server: createServer() };
  fake.server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    fake.requests.push(`${request.method ?? ""} ${request.url ?? ""}`);
    fake.handle(request, response);
  });
  await new Promise<void>((resolve) => fake.server.listen(0, host, resolve));
  fake.port = (fake.server.address() as AddressInfo).port;
  fake.url = `http://${host}:${fake.port}`;
  return fake;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

const FILE_STATUS = { FileStatus: { pathSuffix: "", type: "FILE", length: 10, modificationTime: 1 } };

async function failure(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

describe("webhdfs redirects from a hostile namenode", () => {
  let namenode: FakeServer;
  let bystander: FakeServer;
  beforeAll(async () => {
    namenode = await fakeServer();
    bystander = await fakeServer();
    bystander.handle = (_, response) => {
      response.writeHead(200);
      response.end("0123456789");
    };
  });
  afterAll(() => {
    namenode.server.close();
    bystander.server.close();
  });

  /** A namenode that names `location` for OPEN of /vol/f.txt. */
  function namingForOpen(location: (bystanderPort: number) => string): void {
    namenode.handle = (request, response) => {
      const url = new URL(request.url ?? "/", "http://x");
      if (url.searchParams.get("op") === "GETFILESTATUS") return json(response, 200, FILE_STATUS);
      if (url.searchParams.get("op") === "OPEN") return json(response, 200, { Location: location(bystander.port) });
      json(response, 400, { RemoteException: { exception: "IllegalArgumentException", message: "unexpected" } });
    };
  }

  const refused: Array<[string, (port: number) => string]> = [
    ["another host name for the same machine", (port) => `http://localhost:${port}/webhdfs/v1/vol/f.txt?op=OPEN`],
    ["a link-local metadata address", () => "http://169.254.169.254/webhdfs/v1/vol/f.txt?op=OPEN"],
    ["another path on an allowed host", (port) => `http://127.0.0.1:${port}/admin/shutdown?op=OPEN`],
    ["another file of the cluster", (port) => `http://127.0.0.1:${port}/webhdfs/v1/other/secret.txt?op=OPEN`],
    ["an escaping path", (port) => `http://127.0.0.1:${port}/webhdfs/v1/vol/f.txt/../../other/secret.txt?op=OPEN`],
    ["another operation", (port) => `http://127.0.0.1:${port}/webhdfs/v1/vol/f.txt?op=DELETE`],
    ["another scheme", () => "file:///etc/passwd"],
    ["https where the namenode is http", (port) => `https://127.0.0.1:${port}/webhdfs/v1/vol/f.txt?op=OPEN`],
    ["a user name and password in the URL", (port) => `http://admin:secret@127.0.0.1:${port}/webhdfs/v1/vol/f.txt?op=OPEN`],
    ["not a URL", () => "http://[::1"],
  ];
  it.each(refused)("refuses a datanode address with %s, and the named server sees nothing", async (_, location) => {
    // A secured namenode puts a delegation token in its redirects: the refusal must not repeat it.
    namingForOpen((port) => (location(port).includes("?") ? `${location(port)}&delegation=T0KEN-NOT-TO-SHOW` : location(port)));
    bystander.requests.length = 0;
    const storage = new WebHdfsStorage({ url: namenode.url, root: "/vol", user: "alice" });
    const error = await failure(storage.read("f.txt"));
    expect(error.storageCode).toBe("backend");
    expect(error.message).toMatch(/not followed/);
    expect(error.message).not.toContain("T0KEN");
    expect(bystander.requests).toEqual([]);
  });

  it("follows a datanode address on the namenode's host for the same path and operation", async () => {
    namingForOpen((port) => `http://127.0.0.1:${port}/webhdfs/v1/vol/f.txt?op=OPEN&offset=0&length=10`);
    bystander.requests.length = 0;
    const storage = new WebHdfsStorage({ url: namenode.url, root: "/vol", user: "alice" });
    expect(await text((await storage.read("f.txt")).stream)).toBe("0123456789");
    expect(bystander.requests).toHaveLength(1);
  });

  it("follows other hosts only when the volume names them in datanode_hosts", async () => {
    namingForOpen((port) => `http://localhost:${port}/webhdfs/v1/vol/f.txt?op=OPEN`);
    bystander.requests.length = 0;
    const storage = new WebHdfsStorage({ url: namenode.url, root: "/vol", user: "alice", datanodeHosts: ["localhost"] });
    expect(await text((await storage.read("f.txt")).stream)).toBe("0123456789");
    const suffixOnly = new WebHdfsStorage({ url: namenode.url, root: "/vol", user: "alice", datanodeHosts: ["*.example.internal"] });
    expect((await failure(suffixOnly.read("f.txt"))).message).toMatch(/datanode_hosts \(\*\.example\.internal\)/);
  });

  it("does not follow a datanode's own redirect", async () => {
    const elsewhere = await fakeServer();
    try {
      namingForOpen((port) => `http://127.0.0.1:${port}/webhdfs/v1/vol/f.txt?op=OPEN`);
      bystander.handle = (_, response) => {
        response.writeHead(307, { location: `${elsewhere.url}/latest/meta-data/` });
        response.end();
      };
      const storage = new WebHdfsStorage({ url: namenode.url, root: "/vol", user: "alice" });
      expect((await failure(storage.read("f.txt"))).storageCode).toBe("backend");
      expect(elsewhere.requests).toEqual([]);
    } finally {
      elsewhere.server.close();
      bystander.handle = (_, response) => {
        response.writeHead(200);
        response.end("0123456789");
      };
    }
  });

  it("refuses a namenode that redirects a metadata request, and never sends the write elsewhere", async () => {
    namenode.handle = (request, response) => {
      response.writeHead(307, { location: `${bystander.url}/webhdfs/v1/vol/f.txt?op=GETFILESTATUS` });
      response.end();
    };
    bystander.requests.length = 0;
    const storage = new WebHdfsStorage({ url: namenode.url, root: "/vol", user: "alice" });
    expect((await failure(storage.stat("f.txt"))).message).toMatch(/redirect/);
    namenode.handle = (request, response) => {
      const url = new URL(request.url ?? "/", "http://x");
      if (url.searchParams.get("op") === "GETFILESTATUS") return json(response, 404, { RemoteException: { exception: "FileNotFoundException", message: "no" } });
      if (url.searchParams.get("op") === "CREATE") return json(response, 200, { Location: `http://localhost:${bystander.port}/webhdfs/v1/vol/new.txt?op=CREATE` });
      json(response, 200, { boolean: true });
    };
    expect((await failure(storage.write("new.txt", Readable.from([Buffer.from("payload")])))).message).toMatch(/not followed/);
    expect(bystander.requests).toEqual([]);
  });

  it("lists a folder with LISTSTATUS on a namenode that does not know LISTSTATUS_BATCH (before Hadoop 2.8)", async () => {
    const ops: string[] = [];
    namenode.handle = (request, response) => {
      const url = new URL(request.url ?? "/", "http://x");
      const op = url.searchParams.get("op") ?? "";
      ops.push(op);
      if (op === "GETFILESTATUS") return json(response, 200, { FileStatus: { pathSuffix: "", type: "DIRECTORY", length: 0, modificationTime: 1, childrenNum: 2 } });
      if (op === "LISTSTATUS")
        return json(response, 200, {
          FileStatuses: {
            FileStatus: [
              { pathSuffix: "a", type: "DIRECTORY", length: 0, modificationTime: 1 },
              { pathSuffix: "a-b", type: "FILE", length: 3, modificationTime: 1 },
            ],
          },
        });
      json(response, 400, { RemoteException: { exception: "IllegalArgumentException", message: `Invalid value for webhdfs parameter "op": No enum constant ${op}` } });
    };
    const storage = new WebHdfsStorage({ url: namenode.url, root: "/vol", user: "alice" });
    expect((await storage.list("")).entries.map((e) => `${e.type}:${e.name}`)).toEqual(["file:a-b", "folder:a"]);
    expect(ops).toEqual(["GETFILESTATUS", "LISTSTATUS_BATCH", "LISTSTATUS"]);
  });

  it("sends a delegation token instead of user.name, and answers HTML error pages by status only", async () => {
    const seen: string[] = [];
    namenode.handle = (request, response) => {
      seen.push(request.url ?? "");
      response.writeHead(500, { "content-type": "text/html" });
      response.end("<html>internal stack trace with /secret/paths</html>");
    };
    const storage = new WebHdfsStorage({ url: namenode.url, root: "/vol", user: "alice", delegationToken: () => Promise.resolve("TOKEN123") });
    const error = await failure(storage.stat("f.txt"));
    expect(error.message).toMatch(/status 500/);
    expect(error.message).not.toMatch(/secret/);
    const query = new URL(seen[0] ?? "", "http://x").searchParams;
    expect(query.get("delegation")).toBe("TOKEN123");
    expect(query.get("user.name")).toBeNull();
  });
});

/** One minicluster for the file's real-HDFS cases. */
const hdfs = webhdfsBackend();
afterAll(() => hdfs.stopServer());

describe("webhdfs volumes in capstan.yaml", () => {
  it("accepts a webhdfs volume and refuses bad ones with a message saying what is wrong", () => {
    const ok = configSchema.safeParse({
      volumes: { lake: { kind: "webhdfs", team: "ds", url: "http://namenode:9870", path: "/data/ds", user: "ds", datanode_hosts: ["*.dn.internal"], credentials: { secret: "hdfs" } } },
    });
    expect(ok.success).toBe(true);
    for (const [volume, message] of [
      [{ kind: "webhdfs", team: "t", url: "ftp://nn" }, /namenode's http\(s\) address/],
      [{ kind: "webhdfs", team: "t", url: "http://nn:9870", path: "data" }, /absolute HDFS folder/],
      [{ kind: "webhdfs", team: "t", url: "http://nn:9870", datanode_hosts: ["http://evil/"] }, /host name/],
    ] as const) {
      const parsed = configSchema.safeParse({ volumes: { v: volume } });
      expect(parsed.success).toBe(false);
      expect(JSON.stringify(parsed.error?.issues)).toMatch(message);
    }
  });

  it("serves the volume's folder of the real minicluster, with the delegation token from the team's secret", async () => {
    const server = await hdfs.server();
    const admin = new WebHdfsStorage({ url: server.webhdfsUrl, user: "admin" });
    await admin.write("data/ds/hello.txt", Readable.from([Buffer.from("hello")]));
    await admin.write("data/other/secret.txt", Readable.from([Buffer.from("other team")]));
    const section = configSchema.parse({ volumes: { lake: { kind: "webhdfs", team: "ds", url: server.webhdfsUrl, path: "/data/ds", user: "ds" } } }).volumes;
    const registry = VolumeRegistry.fromConfig(section, { baseDir: "/nonexistent" });
    const volume = registry.get("lake", ["ds"]);
    expect(volume.kind).toBe("webhdfs");
    expect((await volume.storage.list("")).entries.map((e) => e.name)).toEqual(["hello.txt"]);
    expect((await failure(volume.storage.read("../other/secret.txt"))).storageCode).toBe("invalid_path");
    expect((await failure(volume.storage.read("%2e%2e/other/secret.txt"))).storageCode).toBe("invalid_path");
    expect(() => registry.get("lake", ["ml"])).toThrow(/no volume named "lake"/);

    const withSecret = configSchema.parse({ volumes: { lake: { kind: "webhdfs", team: "ds", url: server.webhdfsUrl, path: "/data/ds", credentials: { secret: "hdfs" } } } }).volumes;
    const asked: string[] = [];
    const secretRegistry = VolumeRegistry.fromConfig(withSecret, {
      baseDir: "/nonexistent",
      readSecret: (team, secret) => {
        asked.push(`${team}/${secret}`);
        return Promise.resolve({});
      },
    });
    const missingKey = await failure(secretRegistry.get("lake", ["ds"]).storage.stat("hello.txt"));
    expect(missingKey.message).toMatch(/needs the key delegation_token/);
    expect(asked).toEqual(["ds/hdfs"]);
  });
});

describe("the storage routes on a webhdfs volume", () => {
  let s: ServerHarness;
  let alice: TestUser;
  let vera: TestUser;
  let otto: TestUser;
  beforeAll(async () => {
    const server = await hdfs.server();
    s = await openServer({
      configure: (config) => {
        config.volumes = { "team-a-hdfs": { kind: "webhdfs", url: server.webhdfsUrl, path: "/api/team-a", user: "team-a", team: "team-a" } };
      },
    });
    alice = await s.user("alice", { "team-a": "editor" });
    vera = await s.user("vera", { "team-a": "viewer" });
    otto = await s.user("otto", { "team-b": "admin" });
    await new WebHdfsStorage({ url: server.webhdfsUrl, user: "admin" }).write("api/secret.txt", Readable.from([Buffer.from("outside the volume")]));
  }, 180_000);
  afterAll(() => s?.close());

  it("uploads, lists, downloads a range, moves, copies, searches, zips and deletes", async () => {
    const auth = { authorization: `Bearer ${alice.token}` };
    const put = await fetch(`${s.url}/api/volumes/team-a-hdfs/files?path=raw/data.csv`, { method: "PUT", headers: auth, body: "a,b\n1,2\n" });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ entry: { path: "raw/data.csv", size: 8, type: "file" } });
    const root = await s.call<{ entries: { name: string; type: string }[] }>("GET", "/api/volumes/team-a-hdfs/entries?path=", { token: alice.token });
    expect(root.body.entries).toMatchObject([{ name: "raw", type: "folder" }]);
    const part = await s.call("GET", "/api/volumes/team-a-hdfs/files?path=raw/data.csv", { token: alice.token, headers: { range: "bytes=4-6" } });
    expect(part.status).toBe(206);
    expect(part.text).toBe("1,2");
    expect(part.headers.get("content-range")).toBe("bytes 4-6/8");
    expect((await s.call("POST", "/api/volumes/team-a-hdfs/copy", { token: alice.token, body: { from: "raw", to: "backup" } })).status).toBe(200);
    expect((await s.call("POST", "/api/volumes/team-a-hdfs/move", { token: alice.token, body: { from: "backup/data.csv", to: "backup/renamed.csv" } })).status).toBe(200);
    const found = await s.call<{ entries: { path: string }[] }>("GET", "/api/volumes/team-a-hdfs/search?q=renamed", { token: alice.token });
    expect(found.body.entries.map((e) => e.path)).toEqual(["backup/renamed.csv"]);
    const zip = await fetch(`${s.url}/api/volumes/team-a-hdfs/zip?path=backup`, { headers: auth });
    expect(zip.status).toBe(200);
    expect(Buffer.from(await zip.arrayBuffer()).includes(Buffer.from("renamed.csv"))).toBe(true);
    expect((await s.call("DELETE", "/api/volumes/team-a-hdfs/entries?path=backup&recursive=true", { token: alice.token })).status).toBe(204);
    const after = await s.call<{ entries: { name: string }[] }>("GET", "/api/volumes/team-a-hdfs/entries", { token: alice.token });
    expect(after.body.entries.map((e) => e.name)).toEqual(["raw"]);
    expect(s.serverErrors).toEqual([]);
  });

  it("keeps other teams, callers without a session, viewers writing and escaping paths out", async () => {
    expect((await s.call("GET", "/api/volumes/team-a-hdfs/entries", { token: otto.token })).status).toBe(404);
    expect((await s.call("GET", "/api/volumes/team-a-hdfs/entries")).status).toBe(401);
    const viewerPut = await fetch(`${s.url}/api/volumes/team-a-hdfs/files?path=v.txt`, { method: "PUT", headers: { authorization: `Bearer ${vera.token}` }, body: "x" });
    expect(viewerPut.status).toBe(403);
    for (const path of ["../secret.txt", "%2e%2e/secret.txt", "..%2fsecret.txt", "/api/secret.txt"]) {
      const answer = await s.call<{ error: { message: string } }>("GET", `/api/volumes/team-a-hdfs/files?path=${encodeURIComponent(path)}`, { token: alice.token });
      expect(answer.status, path).toBe(400);
      expect(answer.text).not.toContain("outside the volume");
    }
    expect(s.serverErrors).toEqual([]);
  });
});
