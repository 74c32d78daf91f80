/**
 * The platform's own volumes over HTTP, with the cases an attacker would try: `home-USER` holds
 * the user's sandbox homes and nobody else's (another user, an admin too, gets 404; no session
 * 401); `runs` shows run artifacts and output notebooks of the caller's teams' pipelines only
 * (another team's pipeline and run folders are 404 even when addressed directly), refuses every
 * write with 403, masks secrets in notebooks, does not follow a link out of an artifacts folder,
 * and refuses searches and zips above PIPELINE/RUN (400).
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";

const SECRET = "s3cr3t-value-for-runs-volume";

let s: ServerHarness;
let alice: TestUser; // editor of team-a
let vera: TestUser; // viewer of team-a
let bob: TestUser; // editor of team-b
let outside: string;
let runA: string;
let runB: string;

interface Entry {
  name: string;
  path: string;
  type: string;
  size: number;
}

const TASK_SCRIPT = `
d=$(dirname "$CAPSTAN_OUTPUT")
mkdir -p "$CAPSTAN_ARTIFACTS_DIR/model"
printf 'weights\\n' > "$CAPSTAN_ARTIFACTS_DIR/model/weights.txt"
ln -s "$OUTSIDE" "$CAPSTAN_ARTIFACTS_DIR/escape"
printf '{"cells":[{"cell_type":"code","metadata":{},"execution_count":1,"source":["print(token)"],"outputs":[{"output_type":"stream","name":"stdout","text":["token %s\\\\n"]}]}],"metadata":{},"nbformat":4,"nbformat_minor":5}' "$API_TOKEN" > "$d/output.ipynb"
printf '{"notebook":"%s"}' "$d/output.ipynb" > "$CAPSTAN_OUTPUT"
`;

beforeAll(async () => {
  const dir = tempDir("capstan-home-runs-");
  outside = join(dir, "outside");
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "outside every volume\n");
  writeFileSync(join(dir, "task.sh"), TASK_SCRIPT);
  const pipeline = (id: string, team: string) => `id: ${id}
team: ${team}
tasks:
  train:
    command: sh ${join(dir, "task.sh")}
    env: { OUTSIDE: ${outside} }
    secrets: { API_TOKEN: "api/token" }
`;
  s = await openServer({ pipelines: { "a.yaml": pipeline("a-pipe", "team-a"), "b.yaml": pipeline("b-pipe", "team-b") } });
  alice = await s.user("alice", { "team-a": "editor" });
  vera = await s.user("vera", { "team-a": "viewer" });
  bob = await s.user("bob", { "team-b": "editor" });
  for (const team of ["team-a", "team-b"])
    expect((await s.call("PUT", `/api/secrets/${team}/api`, { token: s.admin.token, body: { data: { token: SECRET } } })).status).toBe(200);
  const started = async (pipelineId: string) => {
    const run = await s.call<{ id: string }>("POST", `/api/pipelines/${pipelineId}/runs`, { token: s.admin.token, body: {} });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect((await s.waitForRun(run.body.id, 60_000)).state).toBe("success");
    return run.body.id;
  };
  runA = await started("a-pipe");
  runB = await started("b-pipe");
}, 180_000);

afterAll(async () => {
  await s.close();
});

const get = <T>(user: TestUser | undefined, path: string) => s.call<T>("GET", path, user === undefined ? {} : { token: user.token });
const entries = (user: TestUser, volume: string, path: string) => get<{ entries: Entry[] }>(user, `/api/volumes/${volume}/entries?path=${encodeURIComponent(path)}`);

async function sandboxHome(user: TestUser, name: string): Promise<string> {
  const created = await s.call<{ id: string }>("POST", "/api/sandboxes", { token: user.token, body: { name } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  // The home a start makes (src/sandboxes/local/sandbox-home.ts); no JupyterLab is needed to browse it.
  const home = join(s.home, "sandboxes", "homes", created.body.id);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}

describe("home volumes", () => {
  it("show the owner's sandbox homes to the owner only, writable by the owner", async () => {
    const labHome = await sandboxHome(alice, "lab");
    writeFileSync(join(labHome, "notes.txt"), "alice's notes\n");
    // The team folders a start links into the home lead outside it: left out, never followed.
    symlinkSync(outside, join(labHome, "shared"));
    const bobHome = await sandboxHome(bob, "lab");
    writeFileSync(join(bobHome, "private.txt"), "bob's\n");

    const volumes = await get<{ volumes: { name: string; kind: string; owner?: string; canWrite: boolean }[] }>(alice, "/api/volumes");
    expect(volumes.body.volumes).toContainEqual(expect.objectContaining({ name: "home-alice", kind: "home", owner: "alice", canWrite: true }));
    expect(volumes.body.volumes.map((v) => v.name)).not.toContain("home-bob");
    const admin = await get<{ volumes: { name: string }[] }>(s.admin, "/api/volumes");
    expect(admin.body.volumes.map((v) => v.name).filter((name) => name.startsWith("home-"))).toEqual([`home-${s.admin.username}`]);

    expect((await entries(alice, "home-alice", "")).body.entries.map((e) => [e.name, e.type])).toEqual([["lab", "folder"]]);
    expect((await entries(alice, "home-alice", "lab")).body.entries.map((e) => e.name)).toEqual(["notes.txt"]);
    expect((await get(alice, "/api/volumes/home-alice/files?path=lab/notes.txt")).text).toBe("alice's notes\n");
    expect((await get(alice, "/api/volumes/home-alice/files?path=lab/shared/secret.txt")).status).toBe(400);

    const put = await fetch(`${s.url}/api/volumes/home-alice/files?path=lab/data/new.csv`, { method: "PUT", headers: { authorization: `Bearer ${alice.token}` }, body: "a,b\n" });
    expect(put.status).toBe(201);
    expect(readFileSync(join(labHome, "data", "new.csv"), "utf8")).toBe("a,b\n");
    // The root lists sandboxes: nothing is made there.
    const atRoot = await fetch(`${s.url}/api/volumes/home-alice/files?path=stray.txt`, { method: "PUT", headers: { authorization: `Bearer ${alice.token}` }, body: "x" });
    expect(atRoot.status).toBe(400);
    expect(await atRoot.json()).toMatchObject({ error: { message: expect.stringContaining("lists your sandboxes") as unknown } });

    // Another user, a viewer of the same team, and an admin: as if it did not exist.
    const missing = await get<{ error: { message: string } }>(bob, "/api/volumes/home-nobody/entries?path=");
    for (const user of [bob, vera, s.admin]) {
      const answer = await get<{ error: { message: string } }>(user, "/api/volumes/home-alice/entries?path=lab");
      expect(answer.status).toBe(404);
      expect(answer.body.error.message.replace("home-alice", "home-nobody")).toBe(missing.body.error.message);
      expect((await get(user, "/api/volumes/home-alice/files?path=lab/notes.txt")).status).toBe(404);
    }
    expect((await get(undefined, "/api/volumes/home-alice/entries?path=lab")).status).toBe(401);
    // Crafted paths stay inside.
    for (const path of ["lab/../../", "lab/%2e%2e/x", "/etc/passwd", "lab\\..\\x", "../lab"])
      expect((await get(alice, `/api/volumes/home-alice/entries?path=${encodeURIComponent(path)}`)).status).toBe(400);
    // A home is not shared by link.
    const share = await s.call<{ error: { code: string } }>("POST", "/api/shares", { token: alice.token, body: { volume: "home-alice", path: "lab/notes.txt" } });
    expect(share.status).toBe(400);
    expect(readFileSync(join(bobHome, "private.txt"), "utf8")).toBe("bob's\n");
  });
});

describe("the runs volume", () => {
  it("lists the caller's teams' runs only, with artifacts and masked notebooks", async () => {
    const volumes = await get<{ volumes: { name: string; kind: string; readOnly: boolean; canWrite: boolean }[] }>(vera, "/api/volumes");
    expect(volumes.body.volumes).toContainEqual(expect.objectContaining({ name: "runs", kind: "runs", readOnly: true, canWrite: false }));

    expect((await entries(vera, "runs", "")).body.entries.map((e) => e.name)).toEqual(["a-pipe"]);
    expect((await entries(bob, "runs", "")).body.entries.map((e) => e.name)).toEqual(["b-pipe"]);
    expect((await entries(s.admin, "runs", "")).body.entries.map((e) => e.name)).toEqual(["a-pipe", "b-pipe"]);
    expect((await entries(vera, "runs", "a-pipe")).body.entries.map((e) => e.name)).toEqual([runA]);
    expect((await entries(vera, "runs", `a-pipe/${runA}`)).body.entries.map((e) => e.name)).toEqual(["artifacts", "notebooks"]);
    expect((await entries(vera, "runs", `a-pipe/${runA}/artifacts`)).body.entries.map((e) => e.name)).toEqual(["model"]);
    expect((await get(vera, `/api/volumes/runs/files?path=a-pipe/${runA}/artifacts/model/weights.txt`)).text).toBe("weights\n");
    const zip = await get(vera, `/api/volumes/runs/zip?path=a-pipe/${runA}/artifacts`);
    expect(zip.status).toBe(200);

    const notebooks = await entries(vera, "runs", `a-pipe/${runA}/notebooks`);
    expect(notebooks.body.entries.map((e) => [e.name, e.type])).toEqual([["train.ipynb", "file"]]);
    const notebook = await get(vera, `/api/volumes/runs/files?path=a-pipe/${runA}/notebooks/train.ipynb`);
    expect(notebook.status).toBe(200);
    expect(notebook.text).toContain("token ");
    expect(notebook.text).not.toContain(SECRET);
    const ranged = await fetch(`${s.url}/api/volumes/runs/files?path=a-pipe/${runA}/notebooks/train.ipynb`, { headers: { authorization: `Bearer ${vera.token}`, range: "bytes=0-9" } });
    expect(ranged.status).toBe(206);
    expect((await ranged.text()).length).toBe(10);
    const preview = await get<{ kind: string }>(vera, `/api/volumes/runs/preview?path=a-pipe/${runA}/notebooks/train.ipynb`);
    expect(preview.body.kind).toBe("notebook");
  });

  it("hides another team's pipelines and runs, even addressed directly or through a pipeline of the caller's", async () => {
    const missing = await get<{ error: { message: string } }>(vera, "/api/volumes/runs/entries?path=nope");
    expect(missing.status).toBe(404);
    for (const path of ["b-pipe", `b-pipe/${runB}`, `b-pipe/${runB}/artifacts`, `a-pipe/${runB}`, `a-pipe/${runB}/artifacts`, `a-pipe/${runB}/notebooks`]) {
      const answer = await get(vera, `/api/volumes/runs/entries?path=${encodeURIComponent(path)}`);
      expect(answer.status, path).toBe(404);
    }
    for (const path of [`b-pipe/${runB}/artifacts/model/weights.txt`, `a-pipe/${runB}/artifacts/model/weights.txt`, `a-pipe/${runB}/notebooks/train.ipynb`])
      expect((await get(vera, `/api/volumes/runs/files?path=${encodeURIComponent(path)}`)).status, path).toBe(404);
    const search = await get<{ entries: Entry[] }>(vera, `/api/volumes/runs/search?path=a-pipe/${runA}&q=weights`);
    expect(search.body.entries.map((e) => e.path)).toEqual([`a-pipe/${runA}/artifacts/model/weights.txt`]);
    expect((await get(vera, `/api/volumes/runs/search?path=${encodeURIComponent(`b-pipe/${runB}`)}&q=weights`)).status).toBe(404);
    // Above PIPELINE/RUN a search or zip would walk every run's artifacts: refused with what to ask instead.
    for (const path of ["", "a-pipe"]) {
      const wide = await get<{ error: { message: string } }>(vera, `/api/volumes/runs/search?path=${path}&q=weights`);
      expect(wide.status, path).toBe(400);
      expect(wide.body.error.message).toContain("PIPELINE/RUN");
      expect((await get(vera, `/api/volumes/runs/zip?path=${path}`)).status, path).toBe(400);
    }
    expect((await get(undefined, "/api/volumes/runs/entries?path=")).status).toBe(401);
  });

  it("refuses every write, crafted paths, and links out of an artifacts folder", async () => {
    const file = `a-pipe/${runA}/artifacts/model/weights.txt`;
    for (const user of [alice, vera, s.admin]) {
      const put = await fetch(`${s.url}/api/volumes/runs/files?path=${encodeURIComponent(`a-pipe/${runA}/artifacts/new.txt`)}`, { method: "PUT", headers: { authorization: `Bearer ${user.token}` }, body: "x" });
      expect(put.status).toBe(403);
      expect((await s.call("DELETE", `/api/volumes/runs/entries?path=${encodeURIComponent(file)}`, { token: user.token })).status).toBe(403);
      expect((await s.call("POST", "/api/volumes/runs/move", { token: user.token, body: { from: file, to: `a-pipe/${runA}/artifacts/moved.txt` } })).status).toBe(403);
      expect((await s.call("POST", "/api/volumes/runs/folders", { token: user.token, body: { path: "a-pipe/new" } })).status).toBe(403);
    }
    expect((await get(vera, `/api/volumes/runs/files?path=${encodeURIComponent(file)}`)).text).toBe("weights\n");
    // The task linked artifacts/escape to a folder outside: refused, and left out of listings.
    const escape = await get<{ error: { code: string } }>(vera, `/api/volumes/runs/files?path=${encodeURIComponent(`a-pipe/${runA}/artifacts/escape/secret.txt`)}`);
    expect(escape.status).toBe(400);
    expect((await entries(vera, "runs", `a-pipe/${runA}/artifacts`)).body.entries.map((e) => e.name)).not.toContain("escape");
    for (const path of [`a-pipe/${runA}/../${runB}`, `a-pipe/${runA}/artifacts/%2e%2e/%2e%2e`, "/a-pipe", `a-pipe/${runA}/artifacts/..%2f..%2fb`])
      expect((await get(vera, `/api/volumes/runs/entries?path=${encodeURIComponent(path)}`)).status, path).toBe(400);
    expect(s.serverErrors).toEqual([]);
  });
});
