/**
 * The validated pipeline model the engine works with: defaults applied, durations in milliseconds,
 * quantities in cores and bytes, dependencies resolved. Stored as JSON with each pipeline version.
 */
import type { ScheduleSpec } from "./schedule-spec.js";
import type { ParamType, TriggerRule } from "./spec-schema.js";

export type TaskKind = "command" | "python" | "notebook" | "kafka_sensor" | "spark";

export interface ParamSpec {
  type: ParamType;
  /** Absent when the param is required at trigger time. */
  default?: unknown;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}

export interface TaskResources {
  /** Cores (fractions allowed); 0 reserves none. */
  cpu: number;
  /** Bytes; 0 reserves none. */
  memory: number;
  gpu: number;
}

/** What a task registers when it succeeds (`register_model:`). */
export interface ModelRegistrationSpec {
  /** The model's name (created in the pipeline's team when new). */
  name: string;
  /** The key of the task's outputs whose value is the path of a .mar file or a model folder. */
  output: string;
  /** Moved to the new version when set. */
  alias?: string;
  /** The task whose numeric outputs the version records as its metrics (this task or an upstream one). */
  metricsFrom: string;
}

/** A `spark:` task: what spark-submit is given (docs/spark.md). */
export interface SparkTaskSpec {
  /** A .py file or a .jar, relative to the pipeline file's folder (or a URL spark-submit reads). */
  application: string;
  /** For a JAR: the class whose main() runs. */
  mainClass?: string;
  /** local, local[N], local[*], k8s or yarn; absent: the connection's master, else local[*]. */
  master?: string;
  /** A team connection of kind spark (its master) or webhdfs (HADOOP_CONF_DIR); also listed in `connections`. */
  connection?: string;
  /** For master yarn: where the driver runs (client: in the task's process, the default; cluster: in YARN). */
  deployMode?: "client" | "cluster";
  /** spark.* keys, string values, passed as --conf. */
  conf: Record<string, string>;
  /** Maven coordinates for --packages. */
  packages: string[];
  pyFiles: string[];
  /** Memory in Spark's notation ("2048m"). */
  driver: { memory?: string; cores?: number };
  executor: { memory?: string; cores?: number; instances?: number };
}

export interface TaskSpec {
  id: string;
  description?: string;
  kind: TaskKind;
  /** For `command`: a list is argv, a string runs with `sh -c`. */
  command?: string | string[];
  /** For `python`: the script path, relative to the pipeline file's folder. */
  python?: string;
  args: string[];
  /** For `spark`: the application and how spark-submit runs it. */
  spark?: SparkTaskSpec;
  /** For `notebook`: the .ipynb path, relative to the pipeline file's folder. */
  notebook?: string;
  parameters: Record<string, unknown>;
  /** For `kafka_sensor`: what to wait for; the platform consumes, no process runs. */
  kafkaSensor?: KafkaSensorSpec;
  kernel?: string;
  dependsOn: string[];
  triggerRule: TriggerRule;
  resources: TaskResources;
  retries: number;
  retryDelayMs: number;
  retryExponentialBackoff: boolean;
  maxRetryDelayMs: number | null;
  timeoutMs: number | null;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  env: Record<string, string>;
  /** Environment variables filled from team secrets when the attempt starts (never stored). */
  secrets: Record<string, { secret: string; key: string }>;
  /** Team connections given to the task as CAPSTAN_CONN_<NAME>_<FIELD> when the attempt starts (credentials never stored with the attempt). */
  connections?: string[];
  cwd?: string;
  skipOnExitCodes: number[];
  outputs: string[];
  registerModel?: ModelRegistrationSpec;
  executor?: string;
  cluster?: string;
  namespace?: string;
  image?: string;
  kubernetes?: Record<string, unknown>;
}

export interface PipelineSpec {
  id: string;
  description?: string;
  team: string;
  tags: string[];
  schedule: ScheduleSpec | null;
  timezone: string;
  /** Epoch ms; null when the pipeline has no start date (manual runs only). */
  startDate: number | null;
  endDate: number | null;
  catchup: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
  params: Record<string, ParamSpec>;
  tasks: Record<string, TaskSpec>;
  /** Task ids in a topological order (upstream before downstream). */
  taskOrder: string[];
  /** Kafka topics whose batches of messages each become a run (src/streams). */
  triggers?: KafkaTriggerSpec[];
}

export interface KafkaTriggerSpec {
  kind: "kafka";
  connection: string;
  topic: string;
  group: string;
  format: "json" | "text";
  maxMessages: number;
  maxWaitMs: number;
  /** A CEL expression: only the messages it is true for go into runs (docs/streams.md). */
  filter?: string;
}

/** A task that waits until a message matching `filter` arrives on `topic`, or fails after `timeoutMs`. */
export interface KafkaSensorSpec {
  connection: string;
  topic: string;
  /** Where reading starts: offsets at the attempt's start, the topic's beginning, or offsets at the run's start. */
  from: "latest" | "earliest" | "run_start";
  timeoutMs: number;
  format: "json" | "text";
  /** Exact matches on the key and on header values, or a CEL expression over the message; an empty filter matches every message. */
  filter: { key?: string; headers?: Record<string, string>; expression?: string };
}

/** A pipeline loaded from a file: its spec, where it came from, and its content hash. */
export interface LoadedPipeline {
  spec: PipelineSpec;
  /** Content hash of the spec: the pipeline version. */
  version: string;
  file: string;
  /** The folder tasks run in and relative paths resolve against. */
  baseDir: string;
  /** The file's text, kept so the spec a run used stays readable. */
  source: string;
}

export const DEFAULT_POOL = "default";
export const DEFAULT_TEAM = "default";
