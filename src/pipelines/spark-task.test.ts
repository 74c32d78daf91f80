import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PipelineFileError } from "./errors.js";
import { loadPipelineFile } from "./load-file.js";
import { loadYamlPipeline } from "./load-yaml.js";

function errorsOf(text: string): string[] {
  try {
    loadYamlPipeline("p.yaml", text);
  } catch (error) {
    if (error instanceof PipelineFileError) return error.message.split("\n");
    throw error;
  }
  throw new Error("expected the file to be refused");
}

const task = (spark: string, extra = "") => `id: x\ntasks:\n  job:\n    spark:\n${spark}${extra}`;

describe("spark: tasks", () => {
  it("normalise application, master, conf, packages, py_files, resources and args", () => {
    const spec = loadYamlPipeline(
      "p.yaml",
      task(
        [
          "      application: jobs/datamart.py",
          "      master: local[2]",
          '      conf: { spark.sql.shuffle.partitions: "4" }',
          "      packages: [org.apache.spark:spark-avro_2.13:4.1.4]",
          "      py_files: [jobs/lib.zip]",
          "      driver: { memory: 1Gi, cores: 1 }",
          "      executor: { memory: 2g, cores: 2, instances: 3 }",
          "      connection: lake",
          "",
        ].join("\n"),
        '    args: ["--day", "{{ ds }}"]\n',
      ),
    );
    const job = spec.tasks.job;
    expect(job?.kind).toBe("spark");
    expect(job?.args).toEqual(["--day", "{{ ds }}"]);
    expect(job?.spark).toEqual({
      application: "jobs/datamart.py",
      master: "local[2]",
      connection: "lake",
      conf: { "spark.sql.shuffle.partitions": "4" },
      packages: ["org.apache.spark:spark-avro_2.13:4.1.4"],
      pyFiles: ["jobs/lib.zip"],
      driver: { memory: "1024m", cores: 1 },
      executor: { memory: "2048m", cores: 2, instances: 3 },
    });
    // local[2] reserves two cores like resources.cpu: 2; the connection reaches the task like a listed one
    expect(job?.resources.cpu).toBe(2);
    expect(job?.connections).toEqual(["lake"]);
  });

  it("take a JAR with its main class", () => {
    const spec = loadYamlPipeline("p.yaml", task("      application: jobs/etl.jar\n      main_class: com.example.Etl\n"));
    expect(spec.tasks.job?.spark?.mainClass).toBe("com.example.Etl");
  });

  it("refuse an unknown master, naming the line, the field and what is accepted", () => {
    const [line] = errorsOf(task("      application: a.py\n      master: mesos://x:5050\n"));
    expect(line).toMatch(/^p\.yaml:6:15: tasks\.job\.spark\.master: unknown master "mesos:\/\/x:5050"; accepted: local, local\[N\], local\[\*\], k8s or yarn/);
  });

  it("take deploy_mode for master yarn only, and refuse turning off the wait for a YARN application", () => {
    const spec = loadYamlPipeline("p.yaml", task("      application: a.py\n      master: yarn\n      deploy_mode: cluster\n"));
    expect(spec.tasks.job?.spark?.deployMode).toBe("cluster");
    const [local] = errorsOf(task("      application: a.py\n      master: local[2]\n      deploy_mode: cluster\n"));
    expect(local).toMatch(/^p\.yaml:\d+:\d+: tasks\.job\.spark\.deploy_mode: deploy_mode is for master yarn; master local\[2\] runs its driver in the task's process/);
    const [other] = errorsOf(task("      application: a.py\n      master: yarn\n      deploy_mode: remote\n"));
    expect(other).toMatch(/tasks\.job\.spark\.deploy_mode: spark\.deploy_mode is "client" .* or "cluster"/);
    const [wait] = errorsOf(task('      application: a.py\n      master: yarn\n      conf: { spark.yarn.submit.waitAppCompletion: "false" }\n'));
    expect(wait).toMatch(/spark\.yarn\.submit\.waitAppCompletion cannot be set in conf: Capstan follows a YARN application until it ends/);
  });

  it("refuse conf values that are not strings, and keys that are not spark.*", () => {
    const [number] = errorsOf(task("      application: a.py\n      conf: { spark.executor.instances: 4 }\n"));
    expect(number).toMatch(/^p\.yaml:6:\d+: tasks\.job\.spark\.conf\.spark\.executor\.instances: conf values are strings: quote numbers and booleans/);
    const [list] = errorsOf(task("      application: a.py\n      conf: [a]\n"));
    expect(list).toMatch(/tasks\.job\.spark\.conf: spark\.conf must be a mapping of spark\.\* keys to string values/);
    const [key] = errorsOf(task('      application: a.py\n      conf: { executor.memory: "2g" }\n'));
    expect(key).toMatch(/tasks\.job\.spark\.conf\.executor\.memory: "executor\.memory" is not a Spark conf key; keys start with "spark\."/);
    const [reserved] = errorsOf(task('      application: a.py\n      conf: { spark.master: "yarn" }\n'));
    expect(reserved).toMatch(/spark\.master cannot be set in conf: set master: instead/);
  });

  it("refuse malformed packages, a JAR without main_class, a file that is neither .py nor .jar, and unknown fields", () => {
    expect(errorsOf(task("      application: a.py\n      packages: [spark-avro]\n"))[0]).toMatch(/tasks\.job\.spark\.packages\[0\]: "spark-avro" is not Maven coordinates; write group:artifact:version/);
    expect(errorsOf(task("      application: etl.jar\n"))[0]).toMatch(/tasks\.job\.spark\.main_class: a JAR application needs main_class/);
    expect(errorsOf(task("      application: etl.sh\n"))[0]).toMatch(/"etl\.sh" is neither a \.py file nor a \.jar/);
    expect(errorsOf(task("      application: a.py\n      memory: 2g\n"))[0]).toMatch(/unknown field "memory"; accepted here: application, main_class, master/);
    expect(errorsOf(task("      application: a.py\n      driver: { memory: lots }\n"))[0]).toMatch(/tasks\.job\.spark\.driver\.memory: "lots" is not a memory quantity/);
  });

  it("refuse a second task kind beside spark", () => {
    expect(errorsOf(task("      application: a.py\n", "    command: ls\n"))[0]).toMatch(/a task has exactly one of/);
  });

  it("make a missing application file a load error with its line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-spark-"));
    const file = join(dir, "p.yaml");
    writeFileSync(file, task("      application: jobs/missing.py\n"));
    await expect(loadPipelineFile(file)).rejects.toThrow(/p\.yaml:5:20: tasks\.job\.spark\.application: task job: jobs\/missing\.py does not exist in the pipeline's folder; paths are relative/);
    writeFileSync(join(dir, "there.py"), "print(1)\n");
    writeFileSync(file, task("      application: there.py\n"));
    expect((await loadPipelineFile(file)).spec.tasks.job?.spark?.application).toBe("there.py");
    // remote and templated paths are read by spark-submit when it runs
    writeFileSync(file, task("      application: hdfs://nn:8020/jobs/x.py\n"));
    expect((await loadPipelineFile(file)).spec.tasks.job?.spark?.application).toBe("hdfs://nn:8020/jobs/x.py");
    // paths outside the pipeline's folder are not looked for: a load error must not tell what exists elsewhere
    writeFileSync(file, task("      application: ../../../etc/capstan-secret.py\n"));
    expect((await loadPipelineFile(file)).spec.tasks.job?.spark?.application).toBe("../../../etc/capstan-secret.py");
    writeFileSync(file, task("      application: /root/missing.py\n"));
    expect((await loadPipelineFile(file)).spec.tasks.job?.spark?.application).toBe("/root/missing.py");
    // nor through a link in the folder that leads out of it; and the error does not show where the folder is
    symlinkSync("/etc/hostname", join(dir, "out.py"));
    writeFileSync(file, task("      application: out.py\n"));
    expect((await loadPipelineFile(file)).spec.tasks.job?.spark?.application).toBe("out.py");
    writeFileSync(file, task("      application: jobs/missing.py\n"));
    const error = await loadPipelineFile(file).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message.split("tasks.job.spark.application:")[1]).toMatch(/^ task job: jobs\/missing\.py does not exist in the pipeline's folder/);
    expect(error?.message.split("tasks.job.spark.application:")[1]).not.toContain(dir);
  });
});
