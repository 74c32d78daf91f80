/**
 * The Spark datamart of the reference pipeline reads its visit logs from HDFS: a real minicluster
 * (test/support/hadoop-testenv.ts), tiny synthetic logs copied into it, and the datamart built from
 * their hdfs:// and webhdfs:// URIs equal to the Arrow datamart of the local copy
 * (examples/similar-users/tests/check_spark_hdfs.py, one SparkSession for both URIs).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/build.js";
import { startHadoopTestenv, type HadoopTestenv } from "../support/hadoop-testenv.js";
import { tempDir } from "../support/platform-harness.js";

const run = promisify(execFile);
const EXAMPLE = join(REPO_ROOT, "examples", "similar-users");
const PYTHON = join(REPO_ROOT, ".venv", "bin", "python");

let hadoop: HadoopTestenv | undefined;
beforeAll(async () => {
  hadoop = await startHadoopTestenv();
}, 180_000);
afterAll(async () => {
  await hadoop?.close();
});

describe("the Spark datamart on HDFS", () => {
  it("builds the same datamart from hdfs:// and webhdfs:// as the Arrow one from the local folder", { timeout: 240_000 }, async () => {
    if (hadoop === undefined) throw new Error("the minicluster did not start");
    const dir = tempDir("capstan-similar-users-hdfs-");
    await run(PYTHON, ["datasource.py", "--size", "tiny", "--out", join(dir, "data"), "--end-date", "2026-01-28", "--days", "7"], { cwd: EXAMPLE });
    const webhdfs = new URL(hadoop.webhdfsUrl);
    const check = await run(
      PYTHON,
      [
        "tests/check_spark_hdfs.py",
        "--local", join(dir, "data", "visits"),
        "--hdfs", `${hadoop.defaultFs}/similar-users/visits`,
        "--webhdfs", `webhdfs://${webhdfs.host}/similar-users/visits`,
        "--start-date", "2026-01-22",
        "--end-date", "2026-01-28",
        "--work", join(dir, "work"),
      ],
      { cwd: EXAMPLE, env: { ...process.env, HADOOP_CONF_DIR: hadoop.confDir, SPARK_LOCAL_IP: "127.0.0.1" }, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`check_spark_hdfs.py failed: ${error.stdout ?? ""}\n${(error.stderr ?? "").slice(-4000)}`);
    });
    const report = JSON.parse(check.stdout.trim().split("\n").pop() ?? "{}") as {
      ok: boolean;
      expected: { visits: number };
      hdfs: { outputs: { files: number; visits: number }; same_table: boolean };
      webhdfs: { same_table: boolean };
    };
    expect(report.ok, check.stdout).toBe(true);
    expect(report.hdfs.outputs.files).toBe(7);
    expect(report.hdfs.outputs.visits).toBe(report.expected.visits);
    expect(report.hdfs.same_table && report.webhdfs.same_table).toBe(true);
  });
});
