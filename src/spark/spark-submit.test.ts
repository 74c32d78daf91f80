import { describe, expect, it } from "vitest";
import type { SparkTaskSpec } from "../pipelines/index.js";
import { resolveSparkMaster, sparkEnv, sparkSubmitArgv } from "./spark-submit.js";

const base: SparkTaskSpec = { application: "jobs/a.py", conf: {}, packages: [], pyFiles: [], driver: {}, executor: {} };

describe("spark-submit's command line", () => {
  it("carries master, name, resources, packages, py files and conf before the application and its args", () => {
    const argv = sparkSubmitArgv(
      { ...base, conf: { "spark.sql.shuffle.partitions": "4" }, packages: ["g:a:1", "g:b:2"], pyFiles: ["lib.zip", "/abs/x.py"], driver: { memory: "1024m", cores: 1 }, executor: { memory: "2048m", cores: 2, instances: 3 } },
      { sparkSubmit: "/venv/spark-submit", baseDir: "/p", master: "local[2]", appName: "job", args: ["--day", "2026-01-01"] },
    );
    expect(argv).toEqual([
      "/venv/spark-submit", "--master", "local[2]", "--name", "job",
      "--packages", "g:a:1,g:b:2", "--py-files", "/p/lib.zip,/abs/x.py",
      "--driver-memory", "1024m", "--driver-cores", "1", "--executor-memory", "2048m", "--executor-cores", "2", "--num-executors", "3",
      "--conf", "spark.sql.shuffle.partitions=4", "--conf", "spark.ui.port=0", "--conf", "spark.ui.killEnabled=false",
      "/p/jobs/a.py", "--day", "2026-01-01",
    ]);
  });

  it("keeps a UI port the task chose, and a JAR's main class", () => {
    const argv = sparkSubmitArgv({ ...base, application: "hdfs://nn/x.jar", mainClass: "com.x.Main", conf: { "spark.ui.port": "4050" } }, { sparkSubmit: "s", baseDir: "/p", master: "local", appName: "j", args: [] });
    expect(argv).toEqual(["s", "--master", "local", "--name", "j", "--class", "com.x.Main", "--conf", "spark.ui.port=4050", "--conf", "spark.ui.killEnabled=false", "hdfs://nn/x.jar"]);
  });

  it("takes the master from the task, else its spark connection, else local[*]", () => {
    expect(resolveSparkMaster({ ...base, master: "local[1]", connection: "c" }, { CAPSTAN_CONN_C_MASTER: "yarn" })).toBe("local[1]");
    expect(resolveSparkMaster({ ...base, connection: "my-spark" }, { CAPSTAN_CONN_MY_SPARK_MASTER: "spark://m:7077" })).toBe("spark://m:7077");
    expect(resolveSparkMaster(base, {})).toBe("local[*]");
  });

  it("binds a local driver to loopback and keeps what the task set itself", () => {
    expect(sparkEnv({}, { sparkHome: "/h", python: "/v/python" }, "local[*]")).toEqual({ SPARK_HOME: "/h", PYSPARK_PYTHON: "/v/python", PYSPARK_DRIVER_PYTHON: "/v/python", SPARK_LOCAL_IP: "127.0.0.1" });
    expect(sparkEnv({ PYSPARK_PYTHON: "/other" }, { sparkHome: "/h", python: "/v/python" }, "yarn")).toEqual({ SPARK_HOME: "/h", PYSPARK_DRIVER_PYTHON: "/v/python" });
  });
});
