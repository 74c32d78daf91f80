/**
 * `models.store` in capstan.yaml: a team's versions are written to its volume through the storage
 * interface (a local folder, and a bucket prefix on a real S3 server), not into the home; their
 * archive is read back from there (the API's /archive, as `capstan serve --model` fetches it); other
 * teams keep theirs in the home; a store naming an unknown volume or another team's is refused.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/cli/client.js";
import { ConfigError, loadConfig, type VolumesConfigFile } from "../../src/config/index.js";
import { ModelStorage } from "../../src/models/index.js";
import { openModelArchive } from "../../src/serving/archive/index.js";
import { VolumeRegistry } from "../../src/storage/index.js";
import { Platform } from "../../src/wiring/index.js";
import { tempDir } from "../support/platform-harness.js";
import { startS3Testenv, type S3Testenv } from "../support/s3-testenv.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";
import { writeMar } from "../serving/support/mar-builder.js";

const PACKAGE = `id: package
team: ml
tasks:
  package:
    command: >-
      mkdir -p "$CAPSTAN_ARTIFACTS_DIR/model/MAR-INF" "$CAPSTAN_ARTIFACTS_DIR/model/extra" &&
      printf 'def handle(data, context):\\n    return data\\n' > "$CAPSTAN_ARTIFACTS_DIR/model/handler.py" &&
      printf 'weights' > "$CAPSTAN_ARTIFACTS_DIR/model/extra/w.bin" &&
      printf '{"runtime": "python", "model": {"modelName": "m", "handler": "handler.py", "modelVersion": "1.0"} }' > "$CAPSTAN_ARTIFACTS_DIR/model/MAR-INF/MANIFEST.json" &&
      printf '{"model_dir": "%s"}' "$CAPSTAN_ARTIFACTS_DIR/model" > "$CAPSTAN_OUTPUT"
    register_model: { name: users, output: model_dir, alias: production }
`;

let s3: S3Testenv | undefined;
let server: ServerHarness | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await s3?.stop();
});

interface VolumeKind {
  name: string;
  /** The `volumes:` entry of team ml's model store, and where its files can be looked at directly. */
  volume(): Promise<{ config: VolumesConfigFile[string]; filesAt: string }>;
}

const kinds: VolumeKind[] = [
  {
    name: "local",
    volume() {
      const root = join(tempDir(), "ml-models");
      mkdirSync(root);
      return Promise.resolve({ config: { kind: "local", team: "ml", path: root }, filesAt: root });
    },
  },
  {
    name: "s3",
    async volume() {
      s3 ??= await startS3Testenv();
      const bucket = await s3.createBucket();
      process.env.CAPSTAN_TEST_MODELS_KEY = s3.accessKeyId;
      process.env.CAPSTAN_TEST_MODELS_SECRET = s3.secretAccessKey;
      return {
        config: {
          kind: "s3",
          team: "ml",
          endpoint: s3.endpoint,
          region: s3.region,
          bucket,
          prefix: "registry",
          path_style: true,
          credentials: { access_key_id_env: "CAPSTAN_TEST_MODELS_KEY", secret_access_key_env: "CAPSTAN_TEST_MODELS_SECRET" },
        },
        // versitygw's posix backend keeps an object's bytes at <data>/<bucket>/<key>.
        filesAt: join(s3.dataDir, bucket, "registry"),
      };
    },
  },
];

describe.each(kinds)("model versions on a $name volume", (kind) => {
  it("writes team ml's versions to its volume, serves their archives from there, and keeps other teams' in the home", { timeout: 120_000 }, async () => {
    const { config: volume, filesAt } = await kind.volume();
    server = await openServer({
      pipelines: { "package.yaml": PACKAGE },
      configure: (config) => {
        config.volumes = { "ml-models": volume };
        config.modelStores = { ml: "ml-models" };
      },
    });
    const home = server.platform.config.home;
    const client = new HttpClient(server.url, server.admin.token);

    // Declared by a task: a model folder.
    const run = await server.platform.scheduler.trigger("package");
    const ended = await client.waitForRun(run.id, () => undefined);
    expect(ended.state, JSON.stringify((await client.getTask(run.id, "package")).reason)).toBe("success");
    const folder = (await client.getModel("users")).versions[0];
    expect(folder?.artifact_path).toMatch(/^ml-models:models\/users\/[0-9a-f]{64}$/);
    const stored = join(filesAt, (folder?.artifact_path ?? "").slice("ml-models:".length));
    expect(readFileSync(join(stored, "extra", "w.bin"), "utf8")).toBe("weights");
    expect(existsSync(join(stored, "MAR-INF", "MANIFEST.json"))).toBe(true);
    expect(existsSync(join(home, "models", "users"))).toBe(false);
    const fetched = join(tempDir(), "users.mar");
    await client.fetchModelArchive("users", "production", fetched);
    const archive = await openModelArchive(fetched, { workDir: tempDir() });
    expect(archive.handler).toBe("handler.py");
    archive.clean();

    // Registered through the API: a .mar, stored as it is.
    const dir = tempDir();
    writeMar(join(dir, "m.mar"), { modelName: "m", handler: "handler.py", files: { "handler.py": "def handle(data, context):\n    return data\n" } });
    const mar = await client.registerModel("users", join(dir, "m.mar"), { team: "ml" });
    expect(mar.artifact_path).toBe(`ml-models:models/users/${mar.sha256}.mar`);
    expect(readFileSync(join(filesAt, "models", "users", `${mar.sha256}.mar`))).toEqual(readFileSync(join(dir, "m.mar")));
    const again = join(tempDir(), "again.mar");
    await client.fetchModelArchive("users", String(mar.version), again);
    expect(readFileSync(again)).toEqual(readFileSync(join(dir, "m.mar")));

    // A team without a store keeps its versions in the home.
    const other = await client.registerModel("others", join(dir, "m.mar"), { team: "other" });
    expect(other.artifact_path).toBe(join(home, "models", "others", `${other.sha256}.mar`));
    expect(server.serverErrors).toEqual([]);
  });
});

describe("models.store", () => {
  it("writes a folder again when its .complete marker is missing (a write cut short), and a complete one once", async () => {
    const dir = tempDir();
    const root = join(dir, "volume");
    mkdirSync(root);
    const home = join(dir, "home");
    mkdirSync(home);
    const volumes = VolumeRegistry.fromConfig({ "ml-models": { kind: "local", team: "ml", path: root } }, { baseDir: dir });
    const storage = new ModelStorage({ home, volumes, stores: { ml: "ml-models" } });
    const model = join(dir, "model");
    mkdirSync(join(model, "MAR-INF"), { recursive: true });
    writeFileSync(join(model, "MAR-INF", "MANIFEST.json"), JSON.stringify({ runtime: "python", model: { modelName: "m", handler: "handler.py", modelVersion: "1.0" } }));
    writeFileSync(join(model, "handler.py"), "def handle(data, context):\n    return data\n");
    const first = await storage.put(model, "users", "ml");
    const stored = join(root, first.artifactPath.slice("ml-models:".length));
    expect(readFileSync(`${stored}.complete`, "utf8")).toBe(`${first.sha256}\n`);
    // Cut short: the marker and a file are missing; the next registration of the same content writes them.
    rmSync(`${stored}.complete`);
    rmSync(join(stored, "handler.py"));
    expect((await storage.put(model, "users", "ml")).artifactPath).toBe(first.artifactPath);
    expect(readFileSync(join(stored, "handler.py"), "utf8")).toContain("def handle");
    // Complete: written once, left as it is.
    writeFileSync(join(stored, "handler.py"), "changed on the volume");
    await storage.put(model, "users", "ml");
    expect(readFileSync(join(stored, "handler.py"), "utf8")).toBe("changed on the volume");
    expect(readdirSync(join(home, "tmp"))).toEqual([]);
  });

  it("refuses a volume that is not configured, of another team, or read-only, naming the entry", async () => {
    const dir = tempDir();
    const open = async (stores: Record<string, string>, readOnly = false): Promise<unknown> => {
      const config = loadConfig({ home: join(dir, "home"), pipelines: [] }, {}, dir);
      config.volumes = { "ml-models": { kind: "local", team: "ml", path: dir, read_only: readOnly } };
      config.modelStores = stores;
      try {
        const platform = await Platform.open({ config, logger: pino({ level: "silent" }) });
        await platform.close();
        return undefined;
      } catch (error) {
        return error;
      }
    };
    const missing = await open({ ml: "nope" });
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toBe('models.store.ml: no volume "nope" of team ml is configured under volumes:; name a volume whose team is ml');
    expect(((await open({ other: "ml-models" })) as Error).message).toMatch(/^models\.store\.other: no volume "ml-models" of team other/);
    expect(((await open({ ml: "ml-models" }, true)) as Error).message).toBe("models.store.ml: volume ml-models is read-only; model versions are written there");
    expect(await open({ ml: "ml-models" })).toBeUndefined();
  });
});
