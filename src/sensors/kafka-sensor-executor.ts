/**
 * The executor of kafka_sensor tasks: no process and no worker or pool slot, the platform itself
 * consumes. An attempt keeps its start and deadline in its folder (`kafka-sensor.json`), works
 * out where reading starts (offsets at its start, the topic's beginning, or offsets at the run's
 * start) in the background, so a slow or unreachable broker never holds up a scheduling pass, and
 * keeps those offsets there too; it ends with the first matching message as its outputs, or fails
 * when the deadline passes. After a restart the scheduler on the same host adopts the attempt and
 * reads again from the kept offsets (or, when none were kept yet, from the offsets at the
 * attempt's start time), so a message produced while no scheduler ran is not missed.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isCapstanError } from "../errors/index.js";
import { attemptKey, LaunchError, type AdoptResult, type AttemptEnd, type AttemptEndListener, type AttemptLaunch, type AttemptRef, type Executor, type LaunchInfo, type StoredAttempt } from "../executors/executor.js";
import type { ResolvedConnection } from "../connections/index.js";
import type { KafkaSensorSpec } from "../pipelines/index.js";
import { formatDuration } from "../units/index.js";
import { KafkaSensorWait, startOffsets, type SensorMessage } from "./kafka-sensor-wait.js";

export const KAFKA_SENSOR_EXECUTOR_NAME = "kafka_sensor";
const STATE_FILE = "kafka-sensor.json";

/** What the sensor needs of the platform. */
export interface KafkaSensorHost {
  /** The team of the run's pipeline and when the run started (ms; null when not started). */
  runContext(runId: string): Promise<{ team: string; runStartedAt: number | null }>;
  /** The team's connection with its credentials; throws a not-found error naming the team's connections. */
  resolveConnection(team: string, name: string): Promise<ResolvedConnection>;
  now(): number;
  log: { info(fields: object, message: string): void; warn(fields: object, message: string): void };
}

/** What an attempt keeps in its folder to be resumed after a restart. */
interface SensorState {
  team: string;
  sensor: KafkaSensorSpec;
  startedAt: number;
  deadline: number;
  /** Reading starts at messages from this time for `run_start` (the run's start, else the attempt's). */
  sinceMs: number;
  /** Partition → first offset to read, as decimal text; null until worked out. */
  offsets: Record<string, string> | null;
  logPath: string;
}

interface ActiveWait {
  wait: KafkaSensorWait;
  timer: NodeJS.Timeout | undefined;
  state: SensorState;
  ref: AttemptRef;
  /** Resolves once the scheduler knows the attempt (launch returned, or adoption ended). */
  known: Promise<void>;
  ended: boolean;
}

export class KafkaSensorExecutor implements Executor {
  readonly name = KAFKA_SENSOR_EXECUTOR_NAME;
  #listener: AttemptEndListener | undefined;
  readonly #waits = new Map<string, ActiveWait>();

  constructor(private readonly host: KafkaSensorHost) {}

  onAttemptEnd(listener: AttemptEndListener): void {
    this.#listener = listener;
  }

  /** A sensor never waits for capacity: it holds no slot. */
  canLaunch(): boolean {
    return true;
  }

  async launch(launch: AttemptLaunch): Promise<LaunchInfo> {
    const sensor = launch.task.kafkaSensor;
    if (!sensor) throw new LaunchError(`task ${launch.taskId} is not a kafka_sensor`, { retryable: false });
    const { team, runStartedAt } = await this.host.runContext(launch.runId);
    const connection = await this.#connection(team, sensor);
    const startedAt = this.host.now();
    const state: SensorState = { team, sensor, startedAt, deadline: startedAt + sensor.timeoutMs, sinceMs: runStartedAt ?? startedAt, offsets: null, logPath: launch.logPath };
    const statePath = join(launch.attemptDir, STATE_FILE);
    writeState(statePath, state);
    this.#begin(launch, state, statePath, connection);
    return { externalId: `kafka_sensor:${launch.token}` };
  }

  async kill(ref: AttemptRef, reason: string): Promise<void> {
    const active = this.#waits.get(attemptKey(ref));
    if (!active) return;
    writeLog(active.state, `stopped: ${reason}`);
    await this.#end(active, { outcome: "failed", exitCode: null, reason, outputs: null, retryable: true });
  }

  async adopt(attempts: readonly StoredAttempt[]): Promise<Map<string, AdoptResult>> {
    const results = new Map<string, AdoptResult>();
    for (const attempt of attempts) {
      const key = attemptKey(attempt);
      if (this.#waits.has(key)) {
        results.set(key, { status: "running" });
        continue;
      }
      const state = attempt.attemptDir === null ? undefined : readState(join(attempt.attemptDir, STATE_FILE));
      if (!state) {
        results.set(key, { status: "ended", end: { outcome: "lost", exitCode: null, reason: "lost: the sensor had not started reading when the scheduler stopped", outputs: null, retryable: true } });
        continue;
      }
      if (this.host.now() >= state.deadline) {
        writeLog(state, timeoutReason(state.sensor));
        results.set(key, { status: "ended", end: { outcome: "failed", exitCode: null, reason: timeoutReason(state.sensor), outputs: null, retryable: true } });
        continue;
      }
      try {
        const connection = await this.#connection(state.team, state.sensor);
        writeLog(state, state.offsets === null ? "resumed after a restart" : `resumed after a restart, reading again from ${describeOffsets(offsetsOf(state.offsets))}`);
        this.#begin(attempt, state, join(attempt.attemptDir ?? "", STATE_FILE), connection);
        results.set(key, { status: "running" });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        writeLog(state, `could not resume: ${reason}`);
        results.set(key, { status: "ended", end: { outcome: "failed", exitCode: null, reason: `kafka_sensor: could not resume after a restart: ${reason}`, outputs: null, retryable: true } });
      }
    }
    return results;
  }

  /** Stops reading; the attempts stay running in the store and are adopted on the next start. */
  async close(): Promise<void> {
    const waits = [...this.#waits.values()];
    this.#waits.clear();
    for (const active of waits) {
      // Ended for this scheduler: a start still working out its offsets must not open a consumer after the close.
      active.ended = true;
      clearTimeout(active.timer);
      await active.wait.stop();
    }
  }

  async #connection(team: string, sensor: KafkaSensorSpec): Promise<ResolvedConnection> {
    let connection: ResolvedConnection;
    try {
      connection = await this.host.resolveConnection(team, sensor.connection);
    } catch (error) {
      const retryable = !(isCapstanError(error) && (error.kind === "not_found" || error.kind === "invalid"));
      throw new LaunchError(`kafka_sensor.connection: ${(error as Error).message}`, { retryable, cause: error });
    }
    if (connection.kind !== "kafka") throw new LaunchError(`kafka_sensor.connection: ${sensor.connection} is a ${connection.kind} connection, not kafka`, { retryable: false });
    return connection;
  }

  /**
   * Arms the deadline and, in the background, works out the start offsets (kept in the state file)
   * and starts reading. The end is reported only after the scheduler knows the attempt.
   */
  #begin(ref: AttemptRef, state: SensorState, statePath: string, connection: ResolvedConnection): void {
    const key = attemptKey(ref);
    const plainRef: AttemptRef = { runId: ref.runId, taskId: ref.taskId, tryNumber: ref.tryNumber, token: ref.token };
    const wait: KafkaSensorWait = new KafkaSensorWait(state.sensor, groupOf(ref), {
      matched: (message) => void this.#matched(key, message),
      skipped: (reason) => writeLog(state, `skipped a message: ${reason}`),
      failed: (error) => {
        const active = this.#waits.get(key);
        if (!active) return;
        writeLog(state, `failed: ${error.message}`);
        void this.#end(active, { outcome: "failed", exitCode: null, reason: `kafka_sensor: reading ${state.sensor.topic} failed: ${error.message}`, outputs: null, retryable: true });
      },
    });
    let markKnown = (): void => undefined;
    const known = new Promise<void>((resolve) => (markKnown = resolve));
    const active: ActiveWait = { wait, timer: undefined, state, ref: plainRef, known, ended: false };
    this.#waits.set(key, active);
    active.timer = setTimeout(() => {
      writeLog(state, timeoutReason(state.sensor));
      void this.#end(active, { outcome: "failed", exitCode: null, reason: timeoutReason(state.sensor), outputs: null, retryable: true });
    }, Math.max(0, state.deadline - this.host.now()));
    // The scheduler records the attempt as running once launch() or adopt() has returned.
    setImmediate(markKnown);
    void (async () => {
      const sensor = state.sensor;
      try {
        if (state.offsets === null) {
          // `latest` means the offsets at the attempt's start time, however late they are worked out.
          const since = sensor.from === "latest" ? state.startedAt : state.sinceMs;
          let offsets: Map<number, bigint>;
          try {
            offsets = await startOffsets(connection, sensor, since, groupOf(ref));
          } catch (error) {
            throw new Error(`cannot read the offsets of topic ${sensor.topic} through connection ${sensor.connection}: ${(error as Error).message}`);
          }
          state.offsets = Object.fromEntries([...offsets].map(([p, o]) => [String(p), String(o)]));
          writeState(statePath, state);
          writeLog(state, `waiting for a message on ${sensor.topic}${describeFilter(sensor.filter)} from ${describeOffsets(offsets)} (from: ${sensor.from}), until ${new Date(state.deadline).toISOString()}`);
        }
        if (active.ended) return;
        try {
          await wait.start(connection, offsetsOf(state.offsets));
        } catch (error) {
          throw new Error(`cannot read topic ${sensor.topic}: ${(error as Error).message}`);
        }
        if (active.ended) await wait.stop();
      } catch (error) {
        if (active.ended) return;
        const reason = (error as Error).message;
        writeLog(state, reason);
        await this.#end(active, { outcome: "failed", exitCode: null, reason: `kafka_sensor: ${reason}`, outputs: null, retryable: true });
      }
    })();
  }

  async #matched(key: string, message: SensorMessage): Promise<void> {
    const active = this.#waits.get(key);
    if (!active) return;
    writeLog(active.state, `matched partition ${message.partition} offset ${message.offset} (key ${JSON.stringify(message.key)})`);
    const outputs: Record<string, unknown> = { ...message };
    await this.#end(active, { outcome: "success", exitCode: 0, reason: null, outputs, retryable: true });
  }

  /** Stops the wait and reports its end once, after the scheduler knows the attempt. */
  async #end(active: ActiveWait, end: AttemptEnd): Promise<void> {
    if (active.ended) return;
    active.ended = true;
    clearTimeout(active.timer);
    this.#waits.delete(attemptKey(active.ref));
    await active.wait.stop();
    await active.known;
    this.#listener?.(active.ref, end);
  }
}

/** A consumer group of the attempt's own: sensors never commit and never share partitions. */
function groupOf(ref: Pick<AttemptRef, "token">): string {
  return `capstan-sensor-${ref.token}`;
}

function timeoutReason(sensor: KafkaSensorSpec): string {
  return `kafka_sensor: no matching message on ${sensor.topic} within ${formatDuration(sensor.timeoutMs)}`;
}

function describeFilter(filter: KafkaSensorSpec["filter"]): string {
  const parts: string[] = [];
  if (filter.key !== undefined) parts.push(`key ${JSON.stringify(filter.key)}`);
  for (const [name, value] of Object.entries(filter.headers ?? {})) parts.push(`header ${JSON.stringify(name)} = ${JSON.stringify(value)}`);
  return parts.length === 0 ? "" : ` with ${parts.join(" and ")}`;
}

function describeOffsets(offsets: ReadonlyMap<number, bigint>): string {
  return [...offsets].map(([p, o]) => `partition ${p} offset ${String(o)}`).join(", ");
}

function writeLog(state: Pick<SensorState, "logPath">, line: string): void {
  try {
    appendFileSync(state.logPath, `${new Date().toISOString()} kafka_sensor: ${line}\n`, { mode: 0o600 });
  } catch {
    // the attempt's log is a convenience; the end is reported either way
  }
}

function offsetsOf(kept: Record<string, string>): Map<number, bigint> {
  return new Map(Object.entries(kept).map(([p, o]) => [Number(p), BigInt(o)]));
}

function writeState(path: string, state: SensorState): void {
  writeFileSync(path, JSON.stringify(state), { mode: 0o600 });
}

function readState(path: string): SensorState | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as SensorState;
    return typeof value.deadline === "number" && typeof value.startedAt === "number" && typeof value.sinceMs === "number" && typeof value.offsets === "object" ? value : undefined;
  } catch {
    return undefined;
  }
}
