import { describe, expect, it } from "vitest";
import { PipelineFileError } from "./errors.js";
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

const ISSUE_EXAMPLE = `id: daily-features
schedule: "0 3 * * *"
timezone: Asia/Seoul
start_date: 2026-01-01
catchup: false
max_active_runs: 1
params:
  rate: { type: number, default: 0.1 }
defaults: { retries: 2, retry_delay: 30s, timeout: 1h }
tasks:
  extract:
    command: ["python3", "extract.py", "--date", "{{ ds }}"]
  train:
    python: train.py
    depends_on: [extract]
    trigger_rule: all_success
    resources: { cpu: 2, memory: 4Gi, gpu: 1 }
    retries: 3
    retry_delay: 10s
    retry_exponential_backoff: true
    max_retry_delay: 5m
    timeout: 30m
    pool: gpu
    env: { MODE: full }
`;

describe("loadYamlPipeline", () => {
  it("accepts the documented example and applies defaults", () => {
    const spec = loadYamlPipeline("p.yaml", ISSUE_EXAMPLE);
    expect(spec.id).toBe("daily-features");
    expect(spec.schedule).toEqual({ kind: "cron", expression: "0 3 * * *", text: "0 3 * * *" });
    expect(spec.startDate).toBe(Date.parse("2025-12-31T15:00:00Z"));
    expect(spec.tasks.extract?.retries).toBe(2);
    expect(spec.tasks.extract?.timeoutMs).toBe(3_600_000);
    expect(spec.tasks.train).toMatchObject({
      kind: "python",
      dependsOn: ["extract"],
      retries: 3,
      retryDelayMs: 10_000,
      maxRetryDelayMs: 300_000,
      timeoutMs: 1_800_000,
      resources: { cpu: 2, memory: 4 * 2 ** 30, gpu: 1 },
      pool: "gpu",
      env: { MODE: "full" },
    });
    expect(spec.taskOrder).toEqual(["extract", "train"]);
  });

  it("reports a YAML syntax error with its line and column", () => {
    expect(errorsOf("id: x\ntasks:\n  a: [unclosed\n")[0]).toMatch(/^p\.yaml:\d+:\d+: YAML syntax error/);
  });

  it("names an unknown field with its position and the accepted fields", () => {
    const [line] = errorsOf("id: x\ntasks:\n  a:\n    command: ls\n    retires: 3\n");
    expect(line).toMatch(/^p\.yaml:5:5: tasks\.a\.retires: unknown field "retires"; accepted here: .*retries/);
  });

  it("refuses two task kinds in one task", () => {
    const [line] = errorsOf("id: x\ntasks:\n  a:\n    command: ls\n    python: a.py\n");
    expect(line).toMatch(/^p\.yaml:5:13: tasks\.a\.python: a task has exactly one of command, python or notebook; this one has command and python/);
  });

  it("refuses a notebook in a scheme tasks cannot read, and takes http(s) and s3 URLs", () => {
    const [line] = errorsOf("id: x\ntasks:\n  a:\n    notebook: gs://bucket/train.ipynb\n");
    expect(line).toMatch(/^p\.yaml:4:15: tasks\.a\.notebook: gs:\/\/ notebooks cannot be read here; give a path relative to the pipeline file, an http\(s\):\/\/ URL or an s3:\/\/ URL/);
    expect(loadYamlPipeline("p.yaml", "id: x\ntasks:\n  a:\n    notebook: https://example.org/train.ipynb\n").tasks.a?.notebook).toBe("https://example.org/train.ipynb");
    expect(loadYamlPipeline("p.yaml", "id: x\ntasks:\n  a:\n    notebook: s3://team-notebooks/train.ipynb\n").tasks.a?.notebook).toBe("s3://team-notebooks/train.ipynb");
    const [volume] = errorsOf("id: x\ntasks:\n  a:\n    notebook: team-data:train.ipynb\n");
    expect(volume).toMatch(/^p\.yaml:4:15: tasks\.a\.notebook: a notebook task cannot read VOLUME:PATH notebooks yet .*as \.\/team-data:train\.ipynb/);
    expect(loadYamlPipeline("p.yaml", "id: x\ntasks:\n  a:\n    notebook: ./team-data:train.ipynb\n").tasks.a?.notebook).toBe("./team-data:train.ipynb");
  });

  it("names the tasks on a dependency cycle", () => {
    const [line] = errorsOf("id: x\ntasks:\n  a: { command: ls, depends_on: [c] }\n  b: { command: ls, depends_on: [a] }\n  c: { command: ls, depends_on: [b] }\n");
    expect(line).toContain("dependency cycle: a → b → c → a");
  });

  it("refuses an unknown upstream and says which tasks exist", () => {
    const [line] = errorsOf("id: x\ntasks:\n  a: { command: ls }\n  b: { command: ls, depends_on: [a, nope] }\n");
    expect(line).toMatch(/^p\.yaml:4:37: tasks\.b\.depends_on\[1\]: unknown upstream task "nope"; tasks in this pipeline: a, b/);
  });

  it("refuses a bad cron, a bad timezone and a bad duration", () => {
    const lines = errorsOf("id: x\nschedule: '61 * * * *'\nstart_date: 2026-01-01\ntimezone: Mars/Olympus\ntasks:\n  a: { command: ls }\n");
    expect(lines.join("\n")).toMatch(/p\.yaml:2:11: schedule: .*not a valid cron expression/);
    expect(lines.join("\n")).toMatch(/p\.yaml:4:11: timezone: unknown timezone "Mars\/Olympus"/);
    expect(errorsOf("id: x\ntasks:\n  a: { command: ls, timeout: soon }\n")[0]).toMatch(/p\.yaml:3:30: tasks\.a\.timeout: "soon" is not a duration/);
  });

  it("refuses an unknown template variable, an unknown param and outputs of a non-upstream task", () => {
    const lines = errorsOf(
      "id: x\nparams: { rate: 0.5 }\ntasks:\n  a: { command: 'echo {{ dss }}' }\n  b: { command: 'echo {{ params.ratee }}' }\n  c: { command: 'echo {{ tasks.a.outputs.path }}' }\n",
    ).join("\n");
    expect(lines).toMatch(/p\.yaml:4:17: tasks\.a\.command: task a: \{\{ dss \}\}: unknown template variable "dss"; known: ds, /);
    expect(lines).toMatch(/tasks\.b\.command: task b: .*unknown param "ratee"; declared params: rate/);
    expect(lines).toMatch(/tasks\.c\.command: task c: .*"a" is not upstream of this task/);
  });

  it("refuses a task id that templates could not name", () => {
    expect(errorsOf("id: x\ntasks:\n  a.b: { command: ls }\n")[0]).toBe(
      `p.yaml:3:3: tasks.a.b: "a.b": a task id may contain letters, digits, '_' and '-', starting with a letter or digit, at most 63 characters`,
    );
  });

  it("refuses a duplicate key", () => {
    expect(errorsOf("id: x\nid: y\ntasks:\n  a: { command: ls }\n")[0]).toMatch(/^p\.yaml:2:1: YAML syntax error: Map keys must be unique/);
  });

  it("refuses NUL bytes in commands, env values and param defaults, with their lines", () => {
    const errors = errorsOf('id: x\nparams:\n  msg: { type: string, default: "a\\0" }\ntasks:\n  a:\n    command: "echo \\0"\n    env: { MODE: "x\\0y" }\n  b: { command: [echo, "\\0"] }\n');
    expect(errors).toEqual([
      expect.stringMatching(/^p\.yaml:3:\d+: params\.msg\.default: the value contains a NUL byte \(U\+0000\)/),
      expect.stringMatching(/^p\.yaml:6:14: tasks\.a\.command: contains a NUL byte \(U\+0000\)/),
      expect.stringMatching(/^p\.yaml:7:18: tasks\.a\.env\.MODE: contains a NUL byte/),
      expect.stringMatching(/^p\.yaml:8:\d+: tasks\.b\.command\[1\]: contains a NUL byte/),
    ]);
  });

  it("refuses a wrong type with what was given", () => {
    expect(errorsOf("id: x\ntasks:\n  a: { command: ls, retries: three }\n")[0]).toMatch(/tasks\.a\.retries: expected number, got the string "three"/);
  });
});
