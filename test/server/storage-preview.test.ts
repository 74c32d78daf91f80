/**
 * Previews of volume files over HTTP: text capped at 256 KiB, CSV and Parquet first rows (the
 * Parquet file written by pyarrow from the venv), a notebook rendered as the run pages render it
 * (secret values masked), images and other files, and who may ask.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "./support/server-harness.js";

let s: ServerHarness;
let vera: TestUser;
let olga: TestUser;

interface Preview {
  kind: string;
  truncated: boolean;
  text?: string;
  columns?: string[];
  rows?: unknown[][];
  notebookHtml?: string;
}

beforeAll(async () => {
  const root = join(tempDir("capstan-preview-"), "data");
  mkdirSync(root);
  writeFileSync(join(root, "big.log"), "x".repeat(300 * 1024));
  writeFileSync(join(root, "small.json"), '{"a": 1}\n');
  const lines = ["id,name,note", ...Array.from({ length: 60 }, (_, i) => `${i},"user ${i}","says ""hi"", twice"`)];
  writeFileSync(join(root, "users.csv"), `${lines.join("\n")}\n`);
  writeFileSync(join(root, "few.csv"), "a,b\n1,2\n");
  const python = loadConfig({}, {}, root).python;
  execFileSync(python, ["-c", `import pyarrow as pa, pyarrow.parquet as pq; pq.write_table(pa.table({"id": list(range(120)), "score": [i / 2 for i in range(120)], "name": ["n%d" % i for i in range(120)]}), ${JSON.stringify(join(root, "scores.parquet"))})`]);
  writeFileSync(
    join(root, "analysis.ipynb"),
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { cell_type: "markdown", metadata: {}, source: ["# Results"] },
        { cell_type: "code", metadata: {}, execution_count: 1, source: ["print(token)"], outputs: [{ output_type: "stream", name: "stdout", text: ["the token is sk-preview-secret-123\n"] }] },
      ],
    }),
  );
  writeFileSync(join(root, "pixel.png"), Buffer.from("89504e470d0a1a0a", "hex"));
  writeFileSync(join(root, "weights.bin"), Buffer.alloc(16));
  writeFileSync(join(root, "broken.parquet"), "not parquet at all");
  s = await openServer({ configure: (config) => (config.volumes = { "team-a-data": { kind: "local", path: root, team: "team-a" } }) });
  await s.platform.secrets.set("team-a", "api", { token: "sk-preview-secret-123" });
  vera = await s.user("vera", { "team-a": "viewer" });
  olga = await s.user("olga", { "team-b": "editor" });
}, 120_000);

afterAll(async () => {
  await s.close();
});

async function preview(path: string, token = vera.token) {
  return s.call<Preview>("GET", `/api/volumes/team-a-data/preview?path=${encodeURIComponent(path)}`, { token });
}

describe("previews", () => {
  it("shows text up to 256 KiB and says when it is cut", async () => {
    const big = await preview("big.log");
    expect(big.status).toBe(200);
    expect(big.body).toMatchObject({ kind: "text", truncated: true });
    expect(big.body.text).toHaveLength(256 * 1024);
    expect((await preview("small.json")).body).toEqual({ kind: "text", truncated: false, text: '{"a": 1}\n' });
  });

  it("shows the first 50 rows of a CSV, with quoted fields", async () => {
    const csv = await preview("users.csv");
    expect(csv.body.kind).toBe("csv");
    expect(csv.body.truncated).toBe(true);
    expect(csv.body.columns).toEqual(["id", "name", "note"]);
    expect(csv.body.rows).toHaveLength(50);
    expect(csv.body.rows?.[0]).toEqual(["0", "user 0", 'says "hi", twice']);
    expect((await preview("few.csv")).body).toEqual({ kind: "csv", truncated: false, columns: ["a", "b"], rows: [["1", "2"]] });
  });

  it("shows the first 50 rows of a Parquet file", async () => {
    const parquet = await preview("scores.parquet");
    expect(parquet.status, parquet.text).toBe(200);
    expect(parquet.body).toMatchObject({ kind: "parquet", truncated: true, columns: ["id", "score", "name"] });
    expect(parquet.body.rows).toHaveLength(50);
    expect(parquet.body.rows?.[3]).toEqual([3, 1.5, "n3"]);
    const broken = await preview("broken.parquet");
    expect(broken.status).toBe(422);
    expect(broken.text).toContain("Parquet");
  });

  it("renders a notebook as the run pages do, with secret values masked", async () => {
    const notebook = await preview("analysis.ipynb");
    expect(notebook.body.kind).toBe("notebook");
    expect(notebook.body.notebookHtml).toContain("<h1>Results</h1>");
    expect(notebook.body.notebookHtml).toContain("the token is");
    expect(notebook.body.notebookHtml).not.toContain("sk-preview-secret-123");
  });

  it("names images and answers none for other files and folders", async () => {
    expect((await preview("pixel.png")).body).toEqual({ kind: "image", truncated: false });
    expect((await preview("weights.bin")).body).toEqual({ kind: "none", truncated: false });
    expect((await preview("")).body).toEqual({ kind: "none", truncated: false });
  });

  it("is 404 for another team, 401 without a session, 400 for a crafted path", async () => {
    expect((await preview("users.csv", olga.token)).status).toBe(404);
    expect((await s.call("GET", "/api/volumes/team-a-data/preview?path=users.csv")).status).toBe(401);
    expect((await preview("../users.csv")).status).toBe(400);
    expect((await preview("missing.txt")).status).toBe(404);
    expect(s.serverErrors).toEqual([]);
  });
});
