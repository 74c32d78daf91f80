/**
 * `capstan notebook run` with VOLUME:PATH notebooks: read from and written to a team volume
 * through a real Capstan server as the signed-in user, so a user reaches only their teams'
 * volumes and a viewer cannot write there.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";
import { python } from "./support/paths.js";

let h: ServerHarness;
let volumeDir: string;
let editor: TestUser;
let viewer: TestUser;
let outsider: TestUser;
const cwd = tempDir("capstan-nb-volume-cwd-");

const notebook = JSON.stringify({
  cells: [
    { cell_type: "code", execution_count: null, id: "p", metadata: { tags: ["parameters"] }, outputs: [], source: "x = 1" },
    { cell_type: "code", execution_count: null, id: "w", metadata: { tags: [] }, outputs: [], source: "print(x * 10)" },
  ],
  metadata: { kernelspec: { display_name: "Python 3", language: "python", name: "python3" }, language_info: { name: "python" } },
  nbformat: 4,
  nbformat_minor: 5,
});

beforeAll(async () => {
  volumeDir = tempDir("capstan-nb-volume-");
  mkdirSync(join(volumeDir, "notebooks"));
  writeFileSync(join(volumeDir, "notebooks", "times-ten.ipynb"), notebook);
  h = await openServer({
    configure: (config) => {
      config.volumes = { "team-data": { kind: "local", team: "ml", path: volumeDir } };
    },
  });
  editor = await h.user("nbeditor", { ml: "editor" });
  viewer = await h.user("nbviewer", { ml: "viewer" });
  outsider = await h.user("nboutsider", { other: "editor" });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const run = (user: TestUser, ...args: string[]) =>
  runCli(["notebook", "run", ...args, "--no-progress-bar"], { cwd, env: { CAPSTAN_SERVER: h.url, CAPSTAN_TOKEN: user.token, CAPSTAN_PYTHON: python, CAPSTAN_HOME: tempDir("capstan-nb-home-") }, timeoutMs: 120_000 });

describe("VOLUME:PATH notebooks", () => {
  it("reads the input from a volume and writes the output there", async () => {
    const result = await run(editor, "team-data:notebooks/times-ten.ipynb", "team-data:reports/out.ipynb", "-p", "x", "4");
    expect(result.code, result.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(volumeDir, "reports", "out.ipynb"), "utf8")) as { cells: { outputs: { text?: string[] }[] }[]; metadata: { papermill: { input_path: string; output_path: string } } };
    expect(written.metadata.papermill.input_path).toBe("team-data:notebooks/times-ten.ipynb");
    expect(written.metadata.papermill.output_path).toBe("team-data:reports/out.ipynb");
    expect(written.cells.at(-1)?.outputs[0]?.text).toEqual(["40\n"]);
  }, 180_000);

  it("mixes a local input with a volume output", async () => {
    writeFileSync(join(cwd, "local.ipynb"), notebook);
    const result = await run(editor, "local.ipynb", "team-data:reports/from-local.ipynb");
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(volumeDir, "reports", "from-local.ipynb"))).toBe(true);
  }, 180_000);

  it("lets a viewer read but not write, and hides another team's volume", async () => {
    const viewerRun = await run(viewer, "team-data:notebooks/times-ten.ipynb", "team-data:reports/viewer.ipynb");
    expect(viewerRun.code).toBe(1);
    expect(viewerRun.stderr).toMatch(/cannot write the output notebook team-data:reports\/viewer\.ipynb/);
    expect(existsSync(join(volumeDir, "reports", "viewer.ipynb"))).toBe(false);

    const outsiderRun = await run(outsider, "team-data:notebooks/times-ten.ipynb", "out.ipynb");
    expect(outsiderRun.code).toBe(1);
    expect(outsiderRun.stderr).toMatch(/team-data:notebooks\/times-ten\.ipynb: cannot read the input notebook: .*no volume named "team-data"/);
    expect(existsSync(join(cwd, "out.ipynb"))).toBe(false);
  }, 180_000);

  it("refuses a path that climbs out of the volume", async () => {
    const result = await run(editor, "team-data:../../etc/passwd", "out.ipynb");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/team-data:\.\.\/\.\.\/etc\/passwd: cannot read the input notebook/);
  }, 180_000);
});
