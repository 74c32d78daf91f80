/**
 * webhdfs connections against the real Hadoop minicluster: the connection test's GETFILESTATUS of
 * /, and a task that names the connection getting a HADOOP_CONF_DIR of its own (mode 0700,
 * core-site.xml with fs.defaultFS) and HADOOP_USER_NAME, which its Python uses to read a file over
 * WebHDFS with nothing but the standard library. One minicluster and one server for the file.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionService } from "../../src/connections/index.js";
import { WebHdfsStorage } from "../../src/storage/index.js";
import { startHadoopTestenv, type HadoopTestenv } from "../support/hadoop-testenv.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

const READ_HDFS = `import json, os, stat, urllib.request
import xml.etree.ElementTree as ET

conf = os.environ["HADOOP_CONF_DIR"]
mode = oct(stat.S_IMODE(os.stat(conf).st_mode))
core = {p.findtext("name"): p.findtext("value") for p in ET.parse(os.path.join(conf, "core-site.xml")).getroot()}
hdfs = {p.findtext("name"): p.findtext("value") for p in ET.parse(os.path.join(conf, "hdfs-site.xml")).getroot()}
fs = core["fs.defaultFS"]
user = os.environ["HADOOP_USER_NAME"]
base = "http://" + hdfs["dfs.namenode.http-address"]
with urllib.request.urlopen(base + "/webhdfs/v1/shared/hello.txt?op=OPEN&user.name=" + user) as answer:
    body = answer.read().decode()
print(json.dumps({"mode": mode, "fs": fs, "user": user, "body": body, "kind": os.environ["CAPSTAN_CONN_LAKE_KIND"]}))
`;

const USES_HDFS = `id: uses-hdfs
team: team-a
tasks:
  read:
    python: read_hdfs.py
    connections: [lake]
`;

let hadoop: HadoopTestenv;
let s: ServerHarness;
let editor: TestUser;

beforeAll(async () => {
  [hadoop, s] = await Promise.all([startHadoopTestenv(), openServer({ pipelines: { "uses-hdfs.yaml": USES_HDFS, "read_hdfs.py": READ_HDFS } })]);
  editor = await s.user("eve", { "team-a": "editor" });
  await new WebHdfsStorage({ url: hadoop.webhdfsUrl, user: "admin" }).write("shared/hello.txt", Readable.from([Buffer.from("hello from hdfs")]));
}, 180_000);

afterAll(async () => {
  await Promise.all([hadoop?.close(), s?.close()]);
});

describe("webhdfs connections", () => {
  it("tests a webhdfs connection with GETFILESTATUS of / on the namenode", async () => {
    const put = await s.call("PUT", "/api/connections/team-a/lake", { token: editor.token, body: { kind: "webhdfs", settings: { url: hadoop.webhdfsUrl, user: "analyst" } } });
    expect(put.status).toBe(200);
    const tested = await s.call<{ ok: boolean; message: string }>("POST", "/api/connections/team-a/lake/test", { token: editor.token });
    expect(tested.body).toMatchObject({ ok: true, message: "WebHDFS GETFILESTATUS / answered 200" });
    expect((await s.call("PUT", "/api/connections/team-a/down", { token: editor.token, body: { kind: "webhdfs", settings: { url: "http://127.0.0.1:1" } } })).status).toBe(200);
    expect((await s.call<{ ok: boolean }>("POST", "/api/connections/team-a/down/test", { token: editor.token })).body.ok).toBe(false);
    const badFs = await s.call<{ error: { message: string } }>("PUT", "/api/connections/team-a/bad", {
      token: editor.token,
      body: { kind: "webhdfs", settings: { url: hadoop.webhdfsUrl, default_fs: "file:///etc" } },
    });
    expect(badFs.status).toBe(400);
    expect(badFs.body.error.message).toMatch(/default_fs.*hdfs:\/\/namenode:8020/);
    // The ResourceManager's REST URL is where the platform sends kills: only http(s).
    for (const crafted of ["file:///etc/passwd", "javascript:alert(1)", "gopher://127.0.0.1:8088/", "http://rm\u0000:8088"]) {
      const badRm = await s.call<{ error: { message: string } }>("PUT", "/api/connections/team-a/bad-rm", {
        token: editor.token,
        body: { kind: "webhdfs", settings: { url: hadoop.webhdfsUrl, resource_manager_url: crafted } },
      });
      expect(badRm.status, crafted).toBe(400);
      expect(badRm.body.error.message).toMatch(/resource_manager_url/);
    }
  });

  it("gives a task HADOOP_CONF_DIR (0700, fs.defaultFS of the connection) and HADOOP_USER_NAME, and its Python reads HDFS with them", async () => {
    const trigger = await s.call<{ id: string }>("POST", "/api/pipelines/uses-hdfs/runs", { token: editor.token, body: {} });
    expect(trigger.status).toBe(201);
    const run = await s.waitForRun(trigger.body.id);
    const log = await s.call<{ text: string }>("GET", `/api/runs/${run.id}/tasks/read/logs`, { token: editor.token });
    expect(run.state, log.body.text).toBe("success");
    const line = log.body.text.split("\n").find((l) => l.includes('"mode"')) ?? "";
    const webhdfsAddress = new URL(hadoop.webhdfsUrl).host;
    expect(JSON.parse(line.slice(line.indexOf("{")))).toEqual({ mode: "0o700", fs: `webhdfs://${webhdfsAddress}`, user: "analyst", body: "hello from hdfs", kind: "webhdfs" });
  }, 60_000);

  it("writes fs.defaultFS and yarn-site.xml from default_fs and resource_manager, for the first webhdfs connection only", async () => {
    const settings = { url: hadoop.webhdfsUrl, default_fs: hadoop.defaultFs, resource_manager: "127.0.0.1:8032" };
    expect((await s.call("PUT", "/api/connections/team-a/lake-rpc", { token: editor.token, body: { kind: "webhdfs", settings } })).status).toBe(200);
    const service = new ConnectionService(s.platform.store, s.platform.secrets);
    const { hadoop: conf, env } = await service.taskEnvironment("team-a", ["lake-rpc", "lake"]);
    expect(conf).toEqual({ connection: "lake-rpc", defaultFs: hadoop.defaultFs, namenodeHttpAddress: new URL(hadoop.webhdfsUrl).host, resourceManager: "127.0.0.1:8032" });
    expect(env.HADOOP_USER_NAME).toBeUndefined();
  });
});
