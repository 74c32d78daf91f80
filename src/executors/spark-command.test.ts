import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TaskSpec } from "../pipelines/index.js";
import { LaunchError } from "./executor.js";
import { sparkTaskCommand } from "./spark-command.js";

/** A venv with a pyspark folder holding bin/spark-submit, which is all findSparkInstall looks for. */
function fakeVenv(): string {
  const venv = mkdtempSync(join(tmpdir(), "capstan-spark-venv-"));
  const pyspark = join(venv, "lib", "python3.11", "site-packages", "pyspark");
  mkdirSync(join(pyspark, "bin"), { recursive: true });
  mkdirSync(join(venv, "bin"));
  writeFileSync(join(pyspark, "bin", "spark-submit"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(venv, "bin", "python"), "", { mode: 0o755 });
  return join(venv, "bin", "python");
}

const task = (spark: Partial<NonNullable<TaskSpec["spark"]>>): TaskSpec =>
  ({ id: "job", kind: "spark", args: ["a"], env: {}, spark: { application: "job.py", conf: {}, packages: [], pyFiles: [], driver: {}, executor: {}, ...spark } }) as unknown as TaskSpec;

describe("a spark task's command with master yarn", () => {
  it("runs spark-submit in the task's deploy mode with the attempt's tag beside the task's own, and names the ResourceManager to kill through", () => {
    const python = fakeVenv();
    const yarn = { resourceManagerUrl: "http://rm:8088", user: "analyst" };
    const client = sparkTaskCommand(task({ master: "yarn", conf: { "spark.yarn.tags": "nightly" } }), { python, capstan: [], baseDir: "/p", attemptDir: "/a", token: "Tok1", yarn });
    expect(client.argv.slice(1, 7)).toEqual(["--master", "yarn", "--name", "job", "--deploy-mode", "client"]);
    expect(client.argv).toContain("spark.yarn.tags=nightly,capstan-attempt-tok1");
    expect(client.yarn).toEqual(yarn);
    const cluster = sparkTaskCommand(task({ master: "yarn", deployMode: "cluster" }), { python, capstan: [], baseDir: "/p", attemptDir: "/a", token: "t", yarn });
    expect(cluster.argv.slice(5, 7)).toEqual(["--deploy-mode", "cluster"]);
    expect(cluster.argv).toContain("spark.yarn.tags=capstan-attempt-t");
    // A local master has nothing on YARN to kill.
    expect(sparkTaskCommand(task({ master: "local[1]" }), { python, capstan: [], baseDir: "/p", attemptDir: "/a", token: "t", yarn }).yarn).toBeUndefined();
  });

  it("refuses yarn without the connection's ResourceManager, and deploy_mode on a connection's other master", () => {
    const python = fakeVenv();
    expect(() => sparkTaskCommand(task({ master: "yarn" }), { python, capstan: [], baseDir: "/p", attemptDir: "/a", token: "t" })).toThrow(LaunchError);
    expect(() => sparkTaskCommand(task({ master: "yarn" }), { python, capstan: [], baseDir: "/p", attemptDir: "/a", token: "t" })).toThrow(/resource_manager .* and resource_manager_url/);
    const fromConnection = task({ connection: "c", deployMode: "cluster" });
    expect(() => sparkTaskCommand(fromConnection, { python, capstan: [], baseDir: "/p", attemptDir: "/a", env: { CAPSTAN_CONN_C_MASTER: "spark://m:7077" } })).toThrow(/deploy_mode is for master yarn; the master here is spark:\/\/m:7077/);
  });
});
