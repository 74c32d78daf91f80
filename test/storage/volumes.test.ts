/**
 * Volumes from capstan.yaml: the `volumes:` schema (kinds, names, credentials), who sees which
 * volume (another team's is not_found exactly like a missing one), relative local paths, and S3
 * volumes whose keys come from environment variables or from a team secret, used against the
 * real S3 server.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import { StorageError, VolumeRegistry } from "../../src/storage/index.js";
import { startS3Testenv, type S3Testenv } from "../support/s3-testenv.js";

function parseVolumes(volumes: unknown) {
  return configSchema.safeParse({ volumes });
}

describe("volumes: section of capstan.yaml", () => {
  it("accepts local, pvc and s3 volumes", () => {
    const parsed = parseVolumes({
      "team-data": { kind: "local", team: "ds", path: "data" },
      shared: { kind: "pvc", team: "ds", path: "/mnt/shared", claim: "ds-shared", read_only: true },
      models: { kind: "s3", team: "ml", endpoint: "http://127.0.0.1:7070", bucket: "models", prefix: "prod", path_style: true, credentials: { secret: "s3-keys" } },
      raw: { kind: "s3", team: "ml", bucket: "raw-data", credentials: { access_key_id_env: "RAW_KEY", secret_access_key_env: "RAW_SECRET" } },
    });
    expect(parsed.success).toBe(true);
  });

  it.each([
    [{ Bad_Name: { kind: "local", team: "t", path: "x" } }, /volume name/],
    [{ v: { kind: "nfs", team: "t", path: "x" } }, /kind must be/],
    [{ v: { kind: "local", path: "x" } }, /team/],
    [{ v: { kind: "s3", team: "t", bucket: "B" } }, /bucket name/],
    [{ v: { kind: "s3", team: "t", bucket: "bkt", endpoint: "ftp://x" } }, /http\(s\) URL/],
    [{ v: { kind: "s3", team: "t", bucket: "bkt", credentials: { access_key_id_env: "A" } } }, /.+/],
    [{ v: { kind: "local", team: "t", path: "x", extra: 1 } }, /.+/],
  ])("refuses %j with a message saying what is wrong", (volumes, message) => {
    const parsed = parseVolumes(volumes);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message);
  });
});

describe("volume registry", () => {
  let server: S3Testenv;
  let base: string;
  beforeAll(async () => {
    server = await startS3Testenv();
    base = await mkdtemp(join(tmpdir(), "capstan-volumes-"));
  });
  afterAll(async () => {
    await server.stop();
    await rm(base, { recursive: true, force: true });
  });

  it.each(["runs", "home-alice"])("refuses a configured volume named %s: the platform's own names", (name) => {
    expect(() => VolumeRegistry.fromConfig({ [name]: { kind: "local", team: "t", path: "x" } }, { baseDir: tmpdir() })).toThrow(/platform's own/);
  });

  it("shows a team only its own volumes; another team's is not_found like a missing one", async () => {
    await writeFile(join(base, "hello.txt"), "hi");
    const registry = VolumeRegistry.fromConfig(
      { mine: { kind: "local", team: "a", path: "." }, theirs: { kind: "local", team: "b", path: "." } },
      { baseDir: base },
    );
    expect(registry.list(["a"]).map((v) => v.name)).toEqual(["mine"]);
    expect(registry.list(["a", "b"]).map((v) => v.name)).toEqual(["mine", "theirs"]);
    const mine = registry.get("mine", ["a"]);
    expect(await text((await mine.storage.read("hello.txt")).stream)).toBe("hi");
    const hidden = (() => { try { registry.get("theirs", ["a"]); } catch (error) { return error; } })();
    const missing = (() => { try { registry.get("nope", ["a"]); } catch (error) { return error; } })();
    expect(hidden).toBeInstanceOf(StorageError);
    expect((hidden as StorageError).kind).toBe("not_found");
    expect((hidden as StorageError).message).toBe((missing as StorageError).message.replace('"nope"', '"theirs"'));
  });

  it("opens S3 volumes with keys from environment variables or from a team secret", async () => {
    const bucket = await server.createBucket();
    const secrets: Array<[string, string]> = [];
    const registry = VolumeRegistry.fromConfig(
      {
        "by-env": { kind: "s3", team: "a", endpoint: server.endpoint, bucket, prefix: "env", path_style: true, credentials: { access_key_id_env: "K", secret_access_key_env: "S" } },
        "by-secret": { kind: "s3", team: "a", endpoint: server.endpoint, bucket, prefix: "sec", path_style: true, credentials: { secret: "s3-keys" } },
        "no-keys": { kind: "s3", team: "a", endpoint: server.endpoint, bucket, path_style: true, credentials: { access_key_id_env: "NONE_A", secret_access_key_env: "NONE_B" } },
      },
      {
        baseDir: base,
        env: { K: server.accessKeyId, S: server.secretAccessKey },
        readSecret: (team, secret) => {
          secrets.push([team, secret]);
          return Promise.resolve({ access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey });
        },
      },
    );
    await registry.get("by-env", ["a"]).storage.write("x.txt", Readable.from(["from env"]));
    await registry.get("by-secret", ["a"]).storage.write("y.txt", Readable.from(["from secret"]));
    expect(secrets).toEqual([["a", "s3-keys"]]);
    const root = registry.get("no-keys", ["a"]).storage;
    await expect(root.list("")).rejects.toThrow(/NONE_A and \$NONE_B, which are not both set/);
    const whole = VolumeRegistry.fromConfig(
      { all: { kind: "s3", team: "a", endpoint: server.endpoint, bucket, path_style: true, credentials: { access_key_id_env: "K", secret_access_key_env: "S" } } },
      { baseDir: base, env: { K: server.accessKeyId, S: server.secretAccessKey } },
    ).get("all", ["a"]).storage;
    expect((await whole.list("")).entries.map((e) => e.path)).toEqual(["env", "sec"]);
    expect(await text((await whole.read("sec/y.txt")).stream)).toBe("from secret");
  });
});
