/**
 * A pipeline task registers its model: examples/similar-users/serve/register.py, run as a task
 * with REGISTRY_URL and REGISTRY_TOKEN from a team secret, builds the model folder in the run's
 * artifacts, registers it with the run's lineage (the evaluate task's metrics) and moves production.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/cli/client.js";
import { REPO_ROOT } from "../support/build.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";
import { python } from "../serving/support/serve-harness.js";

const REGISTER = join(REPO_ROOT, "examples", "similar-users", "serve", "register.py");

const FIXTURE = `
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
np.save(out + "/user_factors.npy", np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32))
pq.write_table(pa.table({"user_id": [1, 2, 3]}), out + "/users.parquet")
`;

let server: ServerHarness | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("the similar-users register task", () => {
  it("registers the run's model folder and moves production when it can reach the API", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "fixture.py"), FIXTURE);
    execFileSync(python, [join(dir, "fixture.py"), dir]);
    chmodSync(join(dir, "user_factors.npy"), 0o644);
    chmodSync(join(dir, "users.parquet"), 0o644);
    const pipeline = `id: su-register
team: ml
tasks:
  evaluate:
    command: 'printf "{\\"precision_at_k\\": 0.91}" > "$CAPSTAN_OUTPUT"'
  register:
    command: '"${python}" "${REGISTER}" --embeddings "${dir}/user_factors.npy" --users "${dir}/users.parquet" --k 1'
    secrets: { REGISTRY_URL: "capstan-api/url", REGISTRY_TOKEN: "capstan-api/token" }
    depends_on: [evaluate]
`;
    server = await openServer({ pipelines: { "su-register.yaml": pipeline } });
    const client = new HttpClient(server.url, server.admin.token);
    await client.setSecret("ml", "capstan-api", { url: server.url, token: server.admin.token });
    expect(server.platform.registry.errors().map((e) => e.message)).toEqual([]);
    const run = await client.trigger("su-register", {}, {});
    const final = await client.waitForRun(run.id, () => undefined);
    const log = await client.readLog(run.id, "register", undefined, 0);
    expect(final.state, log.text).toBe("success");
    const outputs = (await client.getTask(run.id, "register")).outputs;
    expect(outputs).toMatchObject({ registered: true, version: 1, alias: "production" });

    const model = await client.getModel("similar-users");
    expect(model).toMatchObject({ team: "ml", latest_version: 1, aliases: { production: 1 } });
    expect(model.versions[0]).toMatchObject({ kind: "dir", run_id: run.id, task_id: "evaluate", metrics: { precision_at_k: 0.91 } });
    expect(server.serverErrors).toEqual([]);
  });
});
