/**
 * The reference pipeline's model reaches serving: examples/similar-users/serve/package.py builds
 * the model folder from train's embeddings and features' user ids, the registry takes it as a
 * version and moves production, and `capstan serve` (the real model server and a Python worker)
 * loads that version's stored copy and answers {"user_id": …} with the most similar users.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InProcessClient } from "../../src/cli/client.js";
import { loadConfig } from "../../src/config/index.js";
import { loadServeConfig, startModelServer, type ModelServer } from "../../src/serving/index.js";
import { REPO_ROOT } from "../support/build.js";
import { tempDir } from "../support/platform-harness.js";
import { python } from "../serving/support/serve-harness.js";

const EXAMPLE = join(REPO_ROOT, "examples", "similar-users");

// Users 101 and 102 share a taste, 103 and 104 another; 105 is alone.
const FIXTURE = `
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
np.save(out + "/user_factors.npy", np.array([[1, 0, 0], [0.98, 0.05, 0], [0, 1, 0], [0.02, 0.97, 0], [0, 0, 1]], dtype=np.float32))
pq.write_table(pa.table({"user_id": [101, 102, 103, 104, 105]}), out + "/users.parquet")
`;

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("the similar-users model served", () => {
  it("is packaged, registered as production and answers a known user through capstan serve", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "fixture.py"), FIXTURE);
    execFileSync(python, [join(dir, "fixture.py"), dir]);
    const packaged = JSON.parse(
      execFileSync(python, [join(EXAMPLE, "serve", "package.py"), "--embeddings", join(dir, "user_factors.npy"), "--users", join(dir, "users.parquet"), "--k", "2", "--out", join(dir, "model")], { encoding: "utf8" }),
    ) as { model_dir: string; users: number };
    expect(packaged.users).toBe(5);

    const client = new InProcessClient(loadConfig({ home: join(dir, "home"), pipelines: [] }, {}, dir));
    let artifact: string;
    try {
      const version = await client.registerModel("similar-users", packaged.model_dir, {});
      await client.setModelAlias("similar-users", version.version, "production");
      const production = (await client.getModel("similar-users")).versions.find((v) => v.aliases.includes("production"));
      expect(production?.kind).toBe("dir");
      artifact = production?.artifact_path ?? "";
    } finally {
      await client.close();
    }

    // capstan serve --model-store <the model's folder in the home> --models similar-users=<version's copy>
    writeFileSync(join(dir, "config.properties"), ["inference_address=http://127.0.0.1:0", "management_address=http://127.0.0.1:0", "metrics_address=http://127.0.0.1:0", "default_workers_per_model=1", "number_of_gpu=0"].join("\n"));
    const config = loadServeConfig({ modelStore: dirname(artifact), models: [`similar-users=${basename(artifact)}`], tsConfig: join(dir, "config.properties"), disableTokenAuth: true }, python, dir);
    const log: string[] = [];
    server = await startModelServer(config, { log: (line) => log.push(line) });

    const answer = await fetch(`${server.urls.inference}/predictions/similar-users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user_id: 103 }) });
    expect(answer.status, log.join("\n")).toBe(200);
    const body = (await answer.json()) as { user_id: number; similar: { user_id: number; score: number }[] };
    expect(body.user_id).toBe(103);
    expect(body.similar.map((s) => s.user_id)).toEqual([104, expect.any(Number)]);
    expect(body.similar[0]?.score).toBeGreaterThan(0.99);

    const unknown = await fetch(`${server.urls.inference}/predictions/similar-users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user_id: 999 }) });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toContain("unknown user_id '999'");
  });
});
