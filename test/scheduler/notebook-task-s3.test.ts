/**
 * A notebook task whose notebook lives in S3: the pipeline names it as s3://BUCKET/KEY, the task's
 * environment carries the standard AWS variables, and the attempt reads it from a real S3 server
 * (versitygw), runs it with the task's parameters and keeps the executed notebook as its output.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openHarness, type Harness } from "../support/platform-harness.js";
import { startS3Testenv, type S3Testenv } from "../support/s3-testenv.js";

let s3: S3Testenv;
let harness: Harness | undefined;

beforeAll(async () => {
  s3 = await startS3Testenv();
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const notebook = JSON.stringify({
  cells: [
    { cell_type: "code", execution_count: null, id: "p", metadata: { tags: ["parameters"] }, outputs: [], source: "rate = 0.0" },
    { cell_type: "code", execution_count: null, id: "w", metadata: { tags: [] }, outputs: [], source: "import json, os\njson.dump({'tripled': rate * 3}, open(os.environ['CAPSTAN_OUTPUT'], 'w'))" },
  ],
  metadata: { kernelspec: { display_name: "Python 3", language: "python", name: "python3" }, language_info: { name: "python" } },
  nbformat: 4,
  nbformat_minor: 5,
});

describe("notebook tasks with an s3:// notebook", () => {
  it("reads the notebook from S3 with the task's AWS variables and runs it", async () => {
    const bucket = await s3.createBucket();
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: "reports/rate.ipynb", Body: notebook }));
    harness = await openHarness({});
    const env = `{ AWS_ACCESS_KEY_ID: "${s3.accessKeyId}", AWS_SECRET_ACCESS_KEY: "${s3.secretAccessKey}", AWS_REGION: "${s3.region}", AWS_ENDPOINT_URL: "${s3.endpoint}" }`;
    harness.writePipeline("p.yaml", `id: nbs3\ntasks:\n  report:\n    notebook: s3://${bucket}/reports/rate.ipynb\n    parameters: { rate: 0.5 }\n    env: ${env}\n`);
    await harness.platform.reloadPipelines();
    const run = await harness.platform.scheduler.trigger("nbs3");
    const done = await harness.waitForRun(run.id, 120_000);
    const why = await harness.platform.store.tasks.get({ runId: run.id, taskId: "report" });
    expect(done.state, why?.reason ?? "").toBe("success");
    const report = await harness.platform.store.tasks.get({ runId: run.id, taskId: "report" });
    expect(report?.outputs?.tripled).toBe(1.5);
    const executed = JSON.parse(readFileSync(String(report?.outputs?.notebook), "utf8")) as { metadata: { papermill: { input_path: string } } };
    expect(executed.metadata.papermill.input_path).toBe(`s3://${bucket}/reports/rate.ipynb`);
  });

  it("fails the task with the reason when the object is missing", async () => {
    const bucket = await s3.createBucket();
    harness = await openHarness({});
    const env = `{ AWS_ACCESS_KEY_ID: "${s3.accessKeyId}", AWS_SECRET_ACCESS_KEY: "${s3.secretAccessKey}", AWS_ENDPOINT_URL: "${s3.endpoint}" }`;
    harness.writePipeline("p.yaml", `id: nbs3missing\ntasks:\n  report:\n    notebook: s3://${bucket}/nowhere.ipynb\n    env: ${env}\n`);
    await harness.platform.reloadPipelines();
    const run = await harness.platform.scheduler.trigger("nbs3missing");
    expect((await harness.waitForRun(run.id, 120_000)).state).toBe("failed");
    const attempt = (await harness.platform.store.attempts.listByTask({ runId: run.id, taskId: "report" }))[0];
    expect(readFileSync(attempt?.logPath ?? "", "utf8")).toContain(`s3://${bucket}/nowhere.ipynb: cannot read the input notebook`);
  });
});
