/**
 * The Kafka triggers of every loaded pipeline, kept in line with the pipelines once a second: a
 * trigger of an active, unpaused pipeline consumes; pausing the pipeline stops its consumer (the
 * committed offsets stay, so resuming goes on from there); a trigger that failed (broker gone,
 * topic deleted, wrong credentials, unknown connection) is started again after a pause, so
 * consumption resumes when the broker returns. Consumer lag is exported as a gauge.
 */
import { Gauge, type Registry } from "prom-client";
import { ConnectionService } from "../connections/index.js";
import type { KafkaTriggerSpec, LoadedPipeline } from "../pipelines/index.js";
import type { SecretService } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import { KafkaTrigger, kafkaErrorText, type KafkaBatchLimits, type KafkaTriggerHost, type PartitionOffsets } from "./kafka-trigger.js";

export interface KafkaTriggersOptions {
  store: Store;
  secrets: SecretService;
  pipelines: { list(): LoadedPipeline[] };
  createRun: KafkaTriggerHost["createRun"];
  artifactsDir: KafkaTriggerHost["artifactsDir"];
  log: KafkaTriggerHost["log"];
  /** Byte caps per message and per batch (DEFAULT_BATCH_LIMITS when not given). */
  limits?: KafkaBatchLimits;
  /** The registry of GET /metrics, for the lag gauge. */
  registry?: Registry;
  /** How often the triggers are checked against the pipelines (default 1 s). */
  intervalMs?: number;
  /** How long a failed trigger waits before it starts again (default 5 s). */
  retryMs?: number;
}

/** A trigger's state for people (logs, metrics, the UI). */
export interface KafkaTriggerStatus {
  pipeline: string;
  topic: string;
  group: string;
  connection: string;
  state: string;
  error: string | null;
  runsCreated: number;
  duplicatesDropped: number;
  /** Messages the trigger's filter was false for. */
  filteredOut: number;
}

/** One trigger of a pipeline as the UI shows it: where it reads, its state since when, and its offsets. */
export interface KafkaTriggerView {
  index: number;
  connection: string;
  topic: string;
  group: string;
  filter: string | null;
  /** consuming, starting, paused (with its pipeline), failed (see error; retried every few seconds), or stopped (not consuming here). */
  state: string;
  error: string | null;
  /** ISO time the trigger came into its state; null when it is not running in this process. */
  since: string | null;
  runs_created: number;
  filtered_out: number;
  /** Per partition; empty when not consuming (no consumer to ask). */
  partitions: PartitionOffsets[];
}

export class KafkaTriggers {
  readonly #options: KafkaTriggersOptions;
  /** By trigger key; `connectionAt` is the updatedAt of the connection the trigger started with (null: none). */
  readonly #triggers = new Map<string, { trigger: KafkaTrigger; failedAt: number | null; team: string; connectionAt: number | null }>();
  readonly #connections: ConnectionService;
  #timer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;
  #closed = false;

  constructor(options: KafkaTriggersOptions) {
    this.#options = options;
    this.#connections = new ConnectionService(options.store, options.secrets);
    if (options.registry) {
      const triggers = this.#triggers;
      new Gauge({
        name: "capstan_kafka_consumer_lag",
        help: "Messages of a Kafka trigger's topic partition not yet committed by its consumer group",
        labelNames: ["pipeline", "topic", "group", "partition"],
        registers: [options.registry],
        async collect() {
          this.reset();
          for (const { trigger } of triggers.values()) {
            const lags = await trigger.lag().catch(() => undefined);
            for (const [partition, lag] of lags ?? []) this.set({ pipeline: trigger.pipelineId, topic: trigger.spec.topic, group: trigger.spec.group, partition: String(partition) }, Number(lag));
          }
        },
      });
    }
  }

  /** Starts keeping the triggers in line with the pipelines. */
  start(): void {
    if (this.#timer || this.#closed) return;
    const tick = (): void => {
      this.#reconciling ??= this.#reconcile()
        .catch((error: unknown) => this.#options.log.error({ err: error }, "could not check the Kafka triggers against the pipelines"))
        .finally(() => {
          this.#reconciling = undefined;
        });
    };
    tick();
    this.#timer = setInterval(tick, this.#options.intervalMs ?? 1_000);
    this.#timer.unref();
  }

  status(): KafkaTriggerStatus[] {
    return [...this.#triggers.values()].map(({ trigger }) => ({
      pipeline: trigger.pipelineId,
      topic: trigger.spec.topic,
      group: trigger.spec.group,
      connection: trigger.spec.connection,
      state: trigger.state,
      error: trigger.lastError,
      runsCreated: trigger.runsCreated,
      duplicatesDropped: trigger.duplicatesDropped,
      filteredOut: trigger.filteredOut,
    }));
  }

  /** The triggers of one loaded pipeline, with their offsets read from the broker now. */
  async describe(pipeline: LoadedPipeline): Promise<KafkaTriggerView[]> {
    const paused = (await this.#options.store.pipelines.get(pipeline.spec.id))?.paused === 1;
    return Promise.all(
      (pipeline.spec.triggers ?? []).map(async (spec, index) => {
        const entry = this.#triggers.get(triggerKey(pipeline.spec.id, index, spec));
        const trigger = entry?.trigger;
        const partitions = trigger ? await trigger.partitions().catch(() => undefined) : undefined;
        return {
          index,
          connection: spec.connection,
          topic: spec.topic,
          group: spec.group,
          filter: spec.filter ?? null,
          state: trigger?.state ?? (paused ? "paused" : "stopped"),
          error: trigger?.lastError ?? null,
          since: trigger ? new Date(trigger.since).toISOString() : null,
          runs_created: trigger?.runsCreated ?? 0,
          filtered_out: trigger?.filteredOut ?? 0,
          partitions: partitions ?? [],
        };
      }),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#reconciling;
    await Promise.all([...this.#triggers.values()].map(({ trigger }) => trigger.stop()));
    this.#triggers.clear();
  }

  async #reconcile(): Promise<void> {
    if (this.#closed) return;
    const withTriggers = this.#options.pipelines.list().filter((p) => (p.spec.triggers ?? []).length > 0);
    if (withTriggers.length === 0 && this.#triggers.size === 0) return;
    const paused = new Set((await this.#options.store.pipelines.list()).filter((p) => p.paused === 1).map((p) => p.id));
    const wanted = new Map<string, { pipeline: LoadedPipeline; index: number }>();
    for (const pipeline of withTriggers) {
      if (paused.has(pipeline.spec.id)) continue;
      // A trigger whose settings changed (its filter too) is a new key: the old consumer stops, a new one starts.
      (pipeline.spec.triggers ?? []).forEach((t, index) => wanted.set(triggerKey(pipeline.spec.id, index, t), { pipeline, index }));
    }
    // A connection set, changed or deleted since its trigger started restarts the trigger now, with what it is now.
    const connectionsAt = new Map((await this.#options.store.db.selectFrom("connections").select(["team", "name", "updatedAt"]).execute()).map((c) => [`${c.team}/${c.name}`, c.updatedAt]));
    for (const [key, { trigger, team, connectionAt }] of this.#triggers) {
      const edited = (connectionsAt.get(`${team}/${trigger.spec.connection}`) ?? null) !== connectionAt;
      if (wanted.has(key) && !edited) continue;
      this.#triggers.delete(key);
      await trigger.stop(paused.has(trigger.pipelineId) ? "paused" : "stopped");
      const why = paused.has(trigger.pipelineId) ? "kafka trigger paused with its pipeline" : wanted.has(key) ? `kafka trigger restarted: its connection ${trigger.spec.connection} was set, changed or deleted` : "kafka trigger stopped";
      this.#options.log.info({ pipeline: trigger.pipelineId, topic: trigger.spec.topic }, why);
    }
    const now = Date.now();
    for (const [key, { pipeline, index }] of wanted) {
      if (this.#closed) return;
      const entry = this.#triggers.get(key);
      if (entry && entry.trigger.state !== "failed") continue;
      if (entry) {
        entry.failedAt ??= now;
        if (now - entry.failedAt < (this.#options.retryMs ?? 5_000)) continue;
        await entry.trigger.stop("failed");
      }
      const spec = pipeline.spec.triggers?.[index];
      if (!spec) continue;
      const trigger = new KafkaTrigger(pipeline.spec.id, spec, { store: this.#options.store, createRun: this.#options.createRun, artifactsDir: this.#options.artifactsDir, log: this.#options.log, where: `${pipeline.file}: triggers[${index}].kafka` }, this.#options.limits);
      const team = pipeline.spec.team;
      const connectionAt = connectionsAt.get(`${team}/${spec.connection}`) ?? null;
      this.#triggers.set(key, { trigger, failedAt: null, team, connectionAt });
      try {
        const connection = await this.#connections.resolve(team, spec.connection).catch((error: unknown) => {
          throw new Error(`${pipeline.file}: triggers[${index}].kafka.connection: ${kafkaErrorText(error)}`);
        });
        if (connection.kind !== "kafka") throw new Error(`${pipeline.file}: triggers[${index}].kafka.connection: ${spec.connection} is a ${connection.kind} connection, not kafka`);
        await trigger.start(connection);
        this.#options.log.info({ pipeline: pipeline.spec.id, topic: spec.topic, group: spec.group }, "kafka trigger consuming");
      } catch (error) {
        const message = kafkaErrorText(error);
        const where = `${pipeline.file}: triggers[${index}].kafka`;
        const shown = message.startsWith(pipeline.file) ? message : `${where}: ${message}`;
        this.#triggers.set(key, { trigger: failedTrigger(trigger, shown), failedAt: now, team, connectionAt });
        this.#options.log.error({ pipeline: pipeline.spec.id, topic: spec.topic }, `kafka trigger could not start: ${shown}`);
      }
    }
  }
}

/** A trigger's key: its pipeline, place and settings (a changed setting is a new trigger). */
function triggerKey(pipelineId: string, index: number, spec: KafkaTriggerSpec): string {
  return `${pipelineId}#${index}:${JSON.stringify(spec)}`;
}

/** Marks a trigger that could not start as failed with `message` (it is retried by the next pass after the pause). */
function failedTrigger(trigger: KafkaTrigger, message: string): KafkaTrigger {
  trigger.markFailed(message);
  return trigger;
}
