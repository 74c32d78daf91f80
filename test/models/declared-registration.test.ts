/**
 * `register_model:` in a pipeline file: when the task succeeds the platform registers its output as
 * a version of the pipeline team's model with the run's lineage and moves the alias, with no token.
 * The output is hostile input: paths outside the run's artifacts and the pipeline's folder, links
 * out and broken archives fail the task with the reason; another team's model name is refused; a
 * re-run of the task with the same content finds its version instead of adding one; two schedulers
 * on PostgreSQL number concurrent versions one after the other.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { Platform } from "../../src/wiring/index.js";
import { openHarness, tempDir, type Harness } from "../support/platform-harness.js";
import { createTestDatabase } from "../support/postgres.js";
import { writeMar } from "../serving/support/mar-builder.js";

/** Shell that writes a model folder `$CAPSTAN_ARTIFACTS_DIR/$1` (handler and manifest). */
const modelFolder = (folder: string): string =>
  `mkdir -p "$CAPSTAN_ARTIFACTS_DIR/${folder}/MAR-INF" && ` +
  `printf 'def handle(data, context):\\n    return data\\n' > "$CAPSTAN_ARTIFACTS_DIR/${folder}/handler.py" && ` +
  `printf '{"runtime": "python", "model": {"modelName": "m", "handler": "handler.py", "modelVersion": "1.0"} }' > "$CAPSTAN_ARTIFACTS_DIR/${folder}/MAR-INF/MANIFEST.json"`;

const TRAIN = `id: train
team: ml
params:
  factors: { type: integer, default: 8 }
tasks:
  evaluate:
    command: 'printf "{\\"precision\\": 0.93, \\"note\\": \\"fine\\"}" > "$CAPSTAN_OUTPUT"'
  package:
    command: >-
      ${modelFolder("model")} &&
      printf '{"model_dir": "%s", "loss": 0.25}' "$CAPSTAN_ARTIFACTS_DIR/model" > "$CAPSTAN_OUTPUT"
    depends_on: [evaluate]
    register_model: { name: users, output: model_dir, alias: production, metrics_from: evaluate }
`;

// A .mar kept beside the pipeline file, named relative to the pipeline's folder.
const SHIPPED = `id: shipped
team: ml
tasks:
  ship:
    command: 'printf "{\\"archive\\": \\"shipped.mar\\", \\"accuracy\\": 0.5}" > "$CAPSTAN_OUTPUT"'
    register_model: { name: shipped, output: archive }
`;

const hostileTask = (id: string, setup: string, output: string): string =>
  `  ${id}:\n    command: >-\n      ${setup} printf '${output}' "$CAPSTAN_ARTIFACTS_DIR" > "$CAPSTAN_OUTPUT"\n    register_model: { name: evil, output: path }\n`;

const HOSTILE = `id: hostile
team: ml
tasks:
${hostileTask("dotdot", "", '{"path": "%s/../../capstan.db"}')}${hostileTask("absolute", "", '{"path": "/etc/passwd", "unused": "%s"}')}${hostileTask(
  "link_out",
  'ln -s "$CAPSTAN_ARTIFACTS_DIR/../../capstan.db" "$CAPSTAN_ARTIFACTS_DIR/db.mar" &&',
  '{"path": "%s/db.mar"}',
)}${hostileTask("link_in_folder", `${modelFolder("linked")} && ln -s /etc/passwd "$CAPSTAN_ARTIFACTS_DIR/linked/passwd" &&`, '{"path": "%s/linked"}')}${hostileTask(
  "corrupt",
  'printf "not a zip" > "$CAPSTAN_ARTIFACTS_DIR/bad.mar" &&',
  '{"path": "%s/bad.mar"}',
)}${hostileTask("no_manifest", 'mkdir -p "$CAPSTAN_ARTIFACTS_DIR/plain" && printf x > "$CAPSTAN_ARTIFACTS_DIR/plain/x.py" &&', '{"path": "%s/plain"}')}${hostileTask(
  "not_a_string",
  "",
  '{"path": 42, "unused": "%s"}',
)}${hostileTask("missing", "", '{"other": "%s"}')}${hostileTask(
  "fifo_in_folder",
  `${modelFolder("piped")} && mkfifo "$CAPSTAN_ARTIFACTS_DIR/piped/pipe" &&`,
  '{"path": "%s/piped"}',
)}`;

const STEAL = `id: steal
team: other
tasks:
  package:
    command: >-
      ${modelFolder("model")} &&
      printf '{"model_dir": "%s"}' "$CAPSTAN_ARTIFACTS_DIR/model" > "$CAPSTAN_OUTPUT"
    register_model: { name: users, output: model_dir, alias: production }
`;

let harness: Harness | undefined;
const platforms: Platform[] = [];
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const p of platforms.splice(0)) await p.close();
});

describe("register_model in a pipeline file", () => {
  it("registers the task's model with the run's lineage and moves the alias; a re-run with the same content adds no version", { timeout: 120_000 }, async () => {
    const h = (harness = await openHarness({ pipelines: { "train.yaml": TRAIN, "shipped.yaml": SHIPPED } }));
    writeMar(join(h.pipelinesDir, "shipped.mar"), { modelName: "shipped", handler: "handler.py", files: { "handler.py": "def handle(data, context):\n    return data\n" } });
    expect(h.platform.registry.errors().map((e) => e.message)).toEqual([]);
    const { store } = h.platform;

    const run = await h.platform.scheduler.trigger("train", { params: { factors: 16 } });
    expect((await h.waitForRun(run.id)).state).toBe("success");
    const model = await store.models.get("users");
    expect(model?.team).toBe("ml");
    const versions = await store.models.versions("users");
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ version: 1, kind: "dir", runId: run.id, taskId: "package", createdBy: "pipeline:train" });
    expect(JSON.parse(versions[0]?.params ?? "null")).toEqual({ factors: 16 });
    expect(JSON.parse(versions[0]?.metrics ?? "null")).toEqual({ precision: 0.93 });
    expect((await store.models.aliases("users")).map((a) => [a.alias, Number(a.version)])).toEqual([["production", 1]]);

    // Cleared and run again, the task writes the same files: its version is found, not added again.
    await h.platform.scheduler.clear(run.id, ["package"]);
    expect((await h.waitForRun(run.id)).state).toBe("success");
    expect(await store.models.versions("users")).toHaveLength(1);

    const shipped = await h.platform.scheduler.trigger("shipped");
    expect((await h.waitForRun(shipped.id)).state).toBe("success");
    expect(await store.models.versions("shipped")).toEqual([expect.objectContaining({ kind: "mar", taskId: "ship", metrics: JSON.stringify({ accuracy: 0.5 }) })]);
    expect(await store.models.aliases("shipped")).toEqual([]);
  });

  it("fails the task with the reason for paths outside its folders, links out, broken archives and bad outputs, and registers nothing", { timeout: 120_000 }, async () => {
    const h = (harness = await openHarness({ pipelines: { "hostile.yaml": HOSTILE } }));
    expect(h.platform.registry.errors().map((e) => e.message)).toEqual([]);
    const run = await h.platform.scheduler.trigger("hostile");
    expect((await h.waitForRun(run.id)).state).toBe("failed");
    const reasons = Object.fromEntries((await h.platform.store.tasks.listByRun(run.id)).map((t) => [t.taskId, `${t.state}: ${t.reason ?? ""}`]));
    const outside = /^failed: register_model: output path: .* lies outside the run's artifacts folder \(\$CAPSTAN_ARTIFACTS_DIR\) and the pipeline's folder/;
    expect(reasons.dotdot).toMatch(outside);
    expect(reasons.absolute).toMatch(outside);
    expect(reasons.link_out).toMatch(outside);
    expect(reasons.link_out).toContain("resolves to");
    expect(reasons.link_in_folder).toMatch(/^failed: register_model: path: passwd in the model folder is a symbolic link/);
    expect(reasons.corrupt).toMatch(/^failed: register_model: path: .*bad\.mar is not a model archive/);
    expect(reasons.no_manifest).toMatch(/^failed: register_model: path: .*plain is not a model archive/);
    expect(reasons.not_a_string).toBe("failed: register_model: output path: expected the path of a .mar file or a model folder as a string, got 42");
    expect(reasons.missing).toBe('failed: register_model: output path: the task reported no such output; write {"path": "PATH"} to $CAPSTAN_OUTPUT');
    expect(reasons.fifo_in_folder).toMatch(/^failed: register_model: path: .*piped could not be copied \(only files and folders can be registered\)/);
    expect(await h.platform.store.models.get("evil")).toBeUndefined();
    const attempts = await h.platform.store.attempts.listByRun(run.id);
    expect(attempts.every((a) => a.state === "failed" && a.reason?.startsWith("register_model: "))).toBe(true);
  });

  it("refuses to add a version to another team's model", { timeout: 120_000 }, async () => {
    const h = (harness = await openHarness({ pipelines: { "train.yaml": TRAIN, "steal.yaml": STEAL } }));
    const train = await h.platform.scheduler.trigger("train");
    expect((await h.waitForRun(train.id)).state).toBe("success");
    const steal = await h.platform.scheduler.trigger("steal");
    expect((await h.waitForRun(steal.id)).state).toBe("failed");
    const task = await h.platform.store.tasks.get({ runId: steal.id, taskId: "package" });
    expect(task?.reason).toBe('register_model: the model name "users" belongs to another team; choose another name in register_model.name');
    expect(await h.platform.store.models.versions("users")).toHaveLength(1);
    expect((await h.platform.store.models.get("users"))?.team).toBe("ml");
  });

  it("names the file, line and field of a bad register_model", async () => {
    const bad = `id: bad
tasks:
  package:
    command: 'true'
    register_model:
      name: "bad name!"
      output: "model dir"
      alias: Prod
      metrics_from: later
  later:
    command: 'true'
    depends_on: [package]
  climb:
    command: 'true'
    register_model: { name: "../../etc", output: model_dir }
`;
    const typo = `id: typo
tasks:
  package:
    command: 'true'
    register_model: { name: users, output: model_dir, aliases: production }
`;
    const h = (harness = await openHarness({ pipelines: { "bad.yaml": bad, "typo.yaml": typo }, start: false }));
    const [error, typoError] = h.platform.registry.errors();
    expect(typoError?.message).toMatch(/typo\.yaml:5:\d+: tasks\.package\.register_model\.aliases: unknown field "aliases"$/);
    const lines = (error?.message ?? "").split("\n").map((line) => line.replace(/^.*bad\.yaml/, "bad.yaml"));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bad\.yaml:6:\d+: tasks\.package\.register_model\.name: "bad name!" is not a model name/),
        expect.stringMatching(/^bad\.yaml:7:\d+: tasks\.package\.register_model\.output: "model dir" is not an output key/),
        expect.stringMatching(/^bad\.yaml:8:\d+: tasks\.package\.register_model\.alias: "Prod" is not an alias name/),
        expect.stringMatching(/^bad\.yaml:9:\d+: tasks\.package\.register_model\.metrics_from: "later" is not this task or one of its upstream tasks/),
        expect.stringMatching(/^bad\.yaml:15:\d+: tasks\.climb\.register_model\.name: "\.\.\/\.\.\/etc" is not a model name/),
      ]),
    );
  });

  it("two schedulers on PostgreSQL number concurrent versions of one model one after the other, each once", { timeout: 180_000 }, async () => {
    const dir = tempDir("capstan-models-");
    const pipelines = join(dir, "pipelines");
    (await import("node:fs")).mkdirSync(pipelines);
    const lines = ["id: many", "team: ml", "max_active_tasks: 8", "tasks:"];
    for (let i = 0; i < 12; i++) {
      lines.push(`  t${i}:`, `    command: >-`, `      sleep 0.3 && ${modelFolder("$CAPSTAN_TASK_ID")} && echo ${i} > "$CAPSTAN_ARTIFACTS_DIR/$CAPSTAN_TASK_ID/seed.txt" &&`);
      lines.push(`      printf '{"dir": "%s"}' "$CAPSTAN_ARTIFACTS_DIR/$CAPSTAN_TASK_ID" > "$CAPSTAN_OUTPUT"`);
      lines.push(`    register_model: { name: many, output: dir, alias: latest }`);
    }
    // Each task writes its own folder, whose seed.txt keeps the contents apart.
    writeFileSync(join(pipelines, "many.yaml"), `${lines.join("\n")}\n`);
    const url = await createTestDatabase();
    for (const name of ["a", "b"]) {
      const config = loadConfig({ home: join(dir, name), pipelines: [pipelines], databaseUrl: url }, {}, dir);
      config.sweepIntervalMs = 200;
      const platform = await Platform.open({ config, logger: pino({ level: "silent" }) });
      platforms.push(platform);
      await platform.start();
    }
    const [a, b] = platforms as [Platform, Platform];
    expect(a.registry.errors().map((e) => e.message)).toEqual([]);
    const run = await a.scheduler.trigger("many");
    b.scheduler.wake();
    const deadline = Date.now() + 150_000;
    for (;;) {
      const current = await a.store.runs.get(run.id);
      if (current?.state === "success" || current?.state === "failed") break;
      if (Date.now() > deadline) throw new Error("the run did not finish");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const reasons = (await a.store.tasks.listByRun(run.id)).filter((t) => t.state !== "success").map((t) => `${t.taskId}: ${t.reason ?? ""}`);
    expect(reasons).toEqual([]);
    const versions = await a.store.models.versions("many");
    expect(versions.map((v) => Number(v.version))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(new Set(versions.map((v) => v.taskId)).size).toBe(12);
    expect(new Set((await a.store.attempts.listByRun(run.id)).map((x) => x.schedulerId)).size, "both schedulers ended tasks").toBe(2);
  });
});
