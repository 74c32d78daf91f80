/**
 * One Kafka trigger of one pipeline: a consumer in the trigger's group that gathers messages per
 * partition into batches (max_messages, or what came within max_wait) and makes each batch one run
 * whose params carry the messages. The run's key is (connection, group, topic, partition, offset
 * range), unique in the store; the partition's offset is committed only after the run is stored.
 * Values are capped per message and per batch: an oversize message is listed as rejected, and a
 * batch that reaches the byte cap is flushed early. After a crash the
 * consumer reads again from the committed offset, and messages already in a stored run (the
 * highest offset stored per partition, read from the runs' keys) are dropped, so no message is
 * lost and none lands in two runs, whatever the batch boundaries were before the crash. Run keys
 * carry the topic's id, so a topic deleted and created again under its name (whose offsets start
 * at 0 again) is not taken for the old one.
 */
import type { Consumer, Message, MessagesStream } from "@platformatic/kafka";
import { sql } from "kysely";
import { hostname } from "node:os";
import type { ResolvedConnection } from "../connections/index.js";
import { isCapstanError } from "../errors/index.js";
import type { KafkaTriggerSpec } from "../pipelines/index.js";
import type { Store } from "../store/index.js";
import { batchFileNames, batchRunId, DEFAULT_BATCH_FILE_THRESHOLDS, needsBatchFile, writeJsonLines, type BatchFileThresholds } from "./batch-file.js";
import { MessageFilter } from "./message-filter.js";

/** What a trigger needs of the platform. */
export interface KafkaTriggerHost {
  store: Store;
  /** Creates the run (with `runId` when given); throws a conflict error when a run with `runKey` exists. */
  createRun(pipelineId: string, runKey: string, params: Record<string, unknown>, runId?: string): Promise<void>;
  /** The artifacts folder of a run, where a large batch's file goes. */
  artifactsDir(runId: string): string;
  /** Where the trigger is declared (`FILE: triggers[0].kafka`), put before its errors. */
  where?: string;
  log: { info(fields: object, message: string): void; warn(fields: object, message: string): void; error(fields: object, message: string): void };
}

/** One message as the run's params carry it. */
export interface TriggerMessage {
  partition: number;
  offset: string;
  /** ISO time of the message; null when the broker's timestamp is not a representable time. */
  timestamp: string | null;
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
}

type RawMessage = Message<Buffer | undefined, Buffer | undefined, Buffer, Buffer>;

/** Byte caps on what a batch puts into a run's params (key, value and headers of each message). */
export interface KafkaBatchLimits {
  /** A message over this is not in `messages` but listed under `rejected`. */
  maxMessageBytes: number;
  /** A batch is cut (and the buffer flushed early) when its messages reach this. */
  maxBatchBytes: number;
  /** The time the trigger's filter may take on one message (DEFAULT_FILTER_MESSAGE_MS when not given). */
  filterMessageMs?: number;
  /** When a batch goes to a file in the run's artifacts folder (DEFAULT_BATCH_FILE_THRESHOLDS when not given). */
  file?: BatchFileThresholds;
}

export const DEFAULT_BATCH_LIMITS: KafkaBatchLimits = { maxMessageBytes: 1024 * 1024, maxBatchBytes: 64 * 1024 * 1024 };

/**
 * The run key prefix of one partition of a trigger: `kafka:<connection>:<group>:<topic>:<partition>:`.
 * None of the parts can hold ':' (see the pipeline schema and CONNECTION_NAME), so prefixes of
 * different triggers never overlap.
 */
export function kafkaRunKeyPrefix(spec: Pick<KafkaTriggerSpec, "connection" | "group" | "topic">, partition: number): string {
  return `kafka:${spec.connection}:${spec.group}:${spec.topic}:${partition}:`;
}

/**
 * `kafka:<connection>:<group>:<topic>:<partition>:<first>-<last>@<topic id>`, or without `@<topic id>`
 * when the broker gives the topic no id.
 */
export function kafkaRunKey(spec: Pick<KafkaTriggerSpec, "connection" | "group" | "topic">, partition: number, first: bigint, last: bigint, topicId?: string): string {
  return `${kafkaRunKeyPrefix(spec, partition)}${first}-${last}${topicId === undefined ? "" : `@${topicId}`}`;
}

/**
 * The last offset of a run key made with `prefix`, or undefined when the key is not one of them or
 * belongs to another topic of the same name (another `topicId`). A key without a topic id (made
 * before keys carried it, or from a broker that gives none) counts for any id.
 */
export function lastOffsetOfRunKey(runKey: string, prefix: string, topicId?: string): bigint | undefined {
  if (!runKey.startsWith(prefix)) return undefined;
  const range = /^([0-9]+)-([0-9]+)(?:@([A-Za-z0-9_-]{1,64}))?$/.exec(runKey.slice(prefix.length));
  if (range?.[2] === undefined) return undefined;
  if (range[3] !== undefined && topicId !== undefined && range[3] !== topicId) return undefined;
  return BigInt(range[2]);
}

/** The id of `topic` in a metadata answer, when it is one a run key can hold (not the all-zero id of brokers without ids). */
export function topicIdOf(metadata: { topics: Map<string, { id: string }> }, topic: string): string | undefined {
  const id = metadata.topics.get(topic)?.id;
  if (id === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(id) || /^[0A-]*$/.test(id.replace(/-/g, ""))) return undefined;
  return id;
}

/** The bytes a message puts into params: key, value and headers. */
export function messageBytes(message: Pick<RawMessage, "key" | "value" | "headers">): number {
  let bytes = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [name, header] of message.headers ?? new Map<Buffer, Buffer>()) bytes += name.length + header.length;
  return bytes;
}

/**
 * Cuts `messages` (one partition, in offset order) into batches of at most `maxMessages` and at
 * most `limits.maxBatchBytes`; a message over `limits.maxMessageBytes` counts nothing (its value
 * is not carried). A batch holds at least one message.
 */
export function cutBatches<M extends Pick<RawMessage, "key" | "value" | "headers">>(messages: readonly M[], maxMessages: number, limits: KafkaBatchLimits): M[][] {
  const batches: M[][] = [];
  let current: M[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    const counted = size > limits.maxMessageBytes ? 0 : size;
    if (current.length > 0 && (current.length >= maxMessages || bytes + counted > limits.maxBatchBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += counted;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export type TriggerState = "starting" | "consuming" | "paused" | "failed" | "stopped";

/** One partition's offsets as the UI shows them (as text: offsets are 64-bit). */
export interface PartitionOffsets {
  partition: number;
  committed: string | null;
  end: string;
  lag: string;
}

export class KafkaTrigger {
  #consumer: Consumer<Buffer | undefined, Buffer | undefined, Buffer, Buffer> | undefined;
  #stream: MessagesStream<Buffer | undefined, Buffer | undefined, Buffer, Buffer> | undefined;
  readonly #buffer: RawMessage[] = [];
  #bufferedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  /** Per partition: the highest offset already in a stored run (-1n: none). */
  readonly #stored = new Map<number, bigint>();
  /** The id Kafka gave the topic this consumer reads (undefined when the broker gives none). */
  #topicId: string | undefined;
  #state: TriggerState = "stopped";
  #since = Date.now();
  #lastError: string | null = null;
  #runsCreated = 0;
  #duplicatesDropped = 0;
  #filteredOut = 0;
  readonly #filter: MessageFilter | undefined;

  constructor(
    readonly pipelineId: string,
    readonly spec: KafkaTriggerSpec,
    private readonly host: KafkaTriggerHost,
    readonly limits: KafkaBatchLimits = DEFAULT_BATCH_LIMITS,
  ) {
    this.#filter = spec.filter === undefined ? undefined : new MessageFilter(spec.filter, limits.filterMessageMs);
  }

  get state(): TriggerState {
    return this.#state;
  }
  /** When the trigger came into its state (ms since the epoch). */
  get since(): number {
    return this.#since;
  }
  get lastError(): string | null {
    return this.#lastError;
  }
  get runsCreated(): number {
    return this.#runsCreated;
  }
  get duplicatesDropped(): number {
    return this.#duplicatesDropped;
  }
  /** Messages the filter was false for (skipped, their offsets committed). */
  get filteredOut(): number {
    return this.#filteredOut;
  }

  /** Joins the group and starts consuming from the committed offsets (the earliest when none). */
  async start(connection: ResolvedConnection): Promise<void> {
    const { Consumer } = await import("@platformatic/kafka");
    this.#setState("starting");
    const s = connection.settings;
    const consumer = new Consumer<Buffer | undefined, Buffer | undefined, Buffer, Buffer>({
      clientId: `capstan-${this.pipelineId}`,
      groupId: this.spec.group,
      // Static membership: a scheduler started again on this host (after a crash, or a pause) takes
      // its partitions back at once instead of waiting for the dead member's session to expire.
      groupInstanceId: `capstan-${hostname()}-${this.pipelineId}-${this.spec.topic}`.replace(/[^A-Za-z0-9._-]/g, "_"),
      sessionTimeout: 15_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 3_000,
      bootstrapBrokers: s.bootstrap_servers as string[],
      autocommit: false,
      retries: 3,
      ...(s.tls === true ? { tls: {} } : {}),
      ...(s.sasl_mechanism !== undefined
        ? { sasl: { mechanism: s.sasl_mechanism as "PLAIN", username: String(s.sasl_username), password: connection.secretValues.sasl_password ?? "" } }
        : {}),
    });
    this.#consumer = consumer;
    // After each join the assignment may have changed (a partition may come back after another
    // scheduler stored runs for it): the highest stored offsets are read from the store again.
    consumer.on("consumer:group:join", () => this.#stored.clear());
    this.#stored.clear();
    try {
      this.#topicId = topicIdOf(await consumer.metadata({ topics: [this.spec.topic] }), this.spec.topic);
      const stream = await consumer.consume({ topics: [this.spec.topic], mode: "committed", fallbackMode: "earliest", maxWaitTime: Math.min(this.spec.maxWaitMs, 500) });
      this.#stream = stream;
      stream.on("data", (message: RawMessage) => this.#take(message));
      stream.on("error", (error: unknown) => this.#fail(error));
      this.#setState("consuming");
      this.#lastError = null;
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  /** Stops consuming; a batch being stored is finished (and committed) first. Uncommitted messages are read again later. */
  async stop(state: TriggerState = "stopped"): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    this.#buffer.length = 0;
    this.#bufferedBytes = 0;
    const stream = this.#stream;
    const consumer = this.#consumer;
    this.#stream = undefined;
    this.#consumer = undefined;
    await stream?.close().catch(() => undefined);
    await consumer?.close().catch(() => undefined);
    await this.#filter?.close();
    this.#stored.clear();
    if (this.#state !== "failed" || state !== "stopped") this.#setState(state);
  }

  /** Consumer lag per partition (messages not yet committed), or undefined when not consuming. */
  async lag(): Promise<Map<number, bigint> | undefined> {
    const consumer = this.#consumer;
    if (!consumer || this.#state !== "consuming") return undefined;
    const lags = await consumer.getLag({ topics: [this.spec.topic] });
    const perPartition = lags.get(this.spec.topic) ?? [];
    return new Map(perPartition.map((lag, partition) => [partition, lag < 0n ? 0n : lag]));
  }

  /**
   * Per partition of the topic: the group's committed offset (null when none), the end offset and
   * the lag between them; undefined when not consuming.
   */
  async partitions(): Promise<PartitionOffsets[] | undefined> {
    const consumer = this.#consumer;
    if (!consumer || this.#state !== "consuming") return undefined;
    const ends = (await consumer.listOffsets({ topics: [this.spec.topic] })).get(this.spec.topic) ?? [];
    const committed = (await consumer.listCommittedOffsets({ topics: [{ topic: this.spec.topic, partitions: ends.map((_, partition) => partition) }] })).get(this.spec.topic) ?? [];
    return ends.map((end, partition) => {
      const at = committed[partition];
      const known = at !== undefined && at >= 0n ? at : null;
      const lag = known === null ? end : end - known;
      return { partition, committed: known === null ? null : String(known), end: String(end), lag: String(lag < 0n ? 0n : lag) };
    });
  }

  #setState(state: TriggerState): void {
    if (state !== this.#state) this.#since = Date.now();
    this.#state = state;
  }

  #take(message: RawMessage): void {
    this.#buffer.push(message);
    const size = messageBytes(message);
    if (size <= this.limits.maxMessageBytes) this.#bufferedBytes += size;
    if (this.#buffer.length >= this.spec.maxMessages || this.#bufferedBytes >= this.limits.maxBatchBytes) this.#flushNow();
    else this.#timer ??= setTimeout(() => this.#flushNow(), this.spec.maxWaitMs);
  }

  #flushNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#flushing) return;
    this.#stream?.pause();
    this.#flushing = (async () => {
      try {
        while (this.#buffer.length > 0) {
          this.#bufferedBytes = 0;
          await this.#flush(this.#buffer.splice(0, this.#buffer.length));
        }
      } catch (error) {
        this.#fail(error);
      }
    })().finally(() => {
      this.#flushing = undefined;
      if (this.#state === "consuming") this.#stream?.resume();
    });
  }

  async #flush(messages: RawMessage[]): Promise<void> {
    const byPartition = new Map<number, RawMessage[]>();
    // A rebalance makes the client fetch again from the committed offset, so a message not yet
    // stored can arrive twice: one copy per offset is kept.
    const seen = new Set<string>();
    for (const message of messages) {
      const id = `${message.partition}:${message.offset}`;
      if (seen.has(id)) {
        this.#duplicatesDropped += 1;
        continue;
      }
      seen.add(id);
      const list = byPartition.get(message.partition) ?? [];
      list.push(message);
      byPartition.set(message.partition, list);
    }
    for (const [partition, list] of byPartition) {
      list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
      const stored = await this.#storedOffset(partition);
      const fresh = list.filter((m) => m.offset > stored);
      this.#duplicatesDropped += list.length - fresh.length;
      for (const batch of cutBatches(fresh, this.spec.maxMessages, this.limits)) await this.#storeBatch(partition, batch);
      const last = list[list.length - 1];
      if (last) await this.#commit(partition, last);
    }
  }

  async #storeBatch(partition: number, batch: RawMessage[]): Promise<void> {
    const first = batch[0];
    const last = batch[batch.length - 1];
    if (!first || !last) return;
    const runKey = kafkaRunKey(this.spec, partition, first.offset, last.offset, this.#topicId);
    const decoded: TriggerMessage[] = [];
    const rejected: { partition: number; offset: string; reason: string }[] = [];
    const reject = (offset: string, reason: string): void => {
      rejected.push({ partition, offset, reason });
      this.host.log.warn({ pipeline: this.pipelineId, topic: this.spec.topic, partition, offset }, `kafka message skipped: ${reason}`);
    };
    for (const message of batch) {
      const size = messageBytes(message);
      const result: TriggerMessage | { reason: string } =
        size > this.limits.maxMessageBytes
          ? { reason: `partition ${partition} offset ${String(message.offset)}: the message is ${size} bytes, over the limit of ${this.limits.maxMessageBytes} bytes per message` }
          : decodeMessage(message, this.spec.format);
      if ("reason" in result) reject(String(message.offset), result.reason);
      else decoded.push(result);
    }
    const kept = this.#filter ? await this.#applyFilter(decoded, reject) : decoded;
    if (rejected.length > 1) rejected.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    // A batch the filter kept nothing of makes no run; its offsets are committed all the same.
    if (kept.length === 0 && rejected.length === 0) return;
    const batchFields = { topic: this.spec.topic, partition, first_offset: String(first.offset), last_offset: String(last.offset) };
    const lines = kept.map((message) => JSON.stringify(message));
    const rejectedLines = rejected.map((entry) => JSON.stringify(entry));
    const bytes = lines.reduce((sum, line) => sum + line.length, 0) + rejectedLines.reduce((sum, line) => sum + line.length, 0);
    let runId: string | undefined;
    let params: Record<string, unknown>;
    if (needsBatchFile(kept.length + rejected.length, bytes, this.limits.file ?? DEFAULT_BATCH_FILE_THRESHOLDS)) {
      // The file is whole on disk before the run exists, so the run's first task always finds it.
      runId = batchRunId(this.pipelineId, runKey);
      const dir = this.host.artifactsDir(runId);
      const names = batchFileNames(runKey);
      const messagesFile = await writeJsonLines(dir, names.messages, lines);
      const rejectedFile = rejectedLines.length > 0 ? await writeJsonLines(dir, names.rejected, rejectedLines) : undefined;
      params = { kafka: { ...batchFields, messages_file: messagesFile, count: kept.length, ...(rejectedFile !== undefined ? { rejected_file: rejectedFile, rejected_count: rejected.length } : {}) } };
    } else {
      params = { kafka: { ...batchFields, messages: kept, ...(rejected.length > 0 ? { rejected } : {}) } };
    }
    try {
      await this.host.createRun(this.pipelineId, runKey, params, runId);
      this.#runsCreated += 1;
    } catch (error) {
      if (!(isCapstanError(error) && error.kind === "conflict")) throw error;
      this.#duplicatesDropped += batch.length;
    }
    this.#stored.set(partition, last.offset);
  }

  /** The messages the filter is true for; those it fails on go to `reject` with the reason. */
  async #applyFilter(decoded: TriggerMessage[], reject: (offset: string, reason: string) => void): Promise<TriggerMessage[]> {
    if (!this.#filter || decoded.length === 0) return decoded;
    const outcomes = await this.#filter.apply(decoded);
    const kept: TriggerMessage[] = [];
    decoded.forEach((message, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined || "reason" in outcome) reject(message.offset, `partition ${message.partition} offset ${message.offset}: ${outcome?.reason ?? "the filter gave no answer"}`);
      else if (outcome.match) kept.push(message);
      else this.#filteredOut += 1;
    });
    return kept;
  }

  /** Commits the offset after `last` (the message's own commit carries its leader epoch). */
  async #commit(_partition: number, last: RawMessage): Promise<void> {
    if (!this.#consumer) return;
    await last.commit();
  }

  /** The highest offset of `partition` already in a run of this pipeline, read once per consumer session. */
  async #storedOffset(partition: number): Promise<bigint> {
    const known = this.#stored.get(partition);
    if (known !== undefined) return known;
    const highest = await highestStoredOffset(this.host.store, this.pipelineId, kafkaRunKeyPrefix(this.spec, partition), this.#topicId);
    this.#stored.set(partition, highest);
    return highest;
  }

  /** Records that the trigger could not start (unknown connection, broker unreachable). */
  markFailed(message: string): void {
    this.#setState("failed");
    this.#lastError = message;
  }

  #fail(error: unknown): void {
    this.#setState("failed");
    const message = kafkaErrorText(error);
    this.#lastError = this.host.where === undefined ? message : `${this.host.where}: ${message}`;
    this.host.log.error({ pipeline: this.pipelineId, topic: this.spec.topic, err: error }, `kafka trigger of ${this.pipelineId} on ${this.spec.topic} failed: ${this.#lastError}`);
  }
}

/** The highest last offset among the run keys of `pipelineId` that start with `prefix` (-1n: none). */
export async function highestStoredOffset(store: Store, pipelineId: string, prefix: string, topicId?: string): Promise<bigint> {
  // A plain prefix comparison: LIKE would read '_' and '%' in topic and group names as wildcards.
  const rows = await store.db
    .selectFrom("runs")
    .select("runKey")
    .where("pipelineId", "=", pipelineId)
    .where((eb) => eb(eb.fn<string>("substr", ["runKey", sql.lit(1), sql.lit(prefix.length)]), "=", prefix))
    .execute();
  let highest = -1n;
  for (const row of rows) {
    const value = lastOffsetOfRunKey(row.runKey, prefix, topicId);
    if (value !== undefined && value > highest) highest = value;
  }
  return highest;
}

/** A message as run params: key and headers as UTF-8 text, the value as JSON or text; or why it cannot be. */
export function decodeMessage(message: RawMessage, format: "json" | "text"): TriggerMessage | { reason: string } {
  const where = `partition ${message.partition} offset ${String(message.offset)}`;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let text: string | null = null;
  if (message.value !== undefined && message.value !== null) {
    try {
      text = decoder.decode(message.value);
    } catch {
      return { reason: `${where}: the value is not valid UTF-8` };
    }
  }
  let value: unknown = text;
  if (format === "json" && text !== null) {
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { reason: `${where}: the value is not JSON (${(error as Error).message})` };
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, header] of message.headers ?? new Map<Buffer, Buffer>()) headers[name.toString("utf8")] = header.toString("utf8");
  return {
    partition: message.partition,
    offset: String(message.offset),
    timestamp: isoTimestamp(message.timestamp),
    key: message.key === undefined || message.key === null ? null : message.key.toString("utf8"),
    value,
    headers,
  };
}

/** Milliseconds since the epoch as ISO time; null when out of the range a date can hold (a crafted timestamp must not stop the trigger). */
export function isoTimestamp(millis: bigint | number | undefined): string | null {
  if (millis === undefined) return null;
  const value = Number(millis);
  if (!Number.isFinite(value) || Math.abs(value) > 8.64e15) return null;
  return new Date(value).toISOString();
}

/**
 * An error of the Kafka client as one line: its message and the distinct messages of the errors
 * it gathers (the client wraps "unknown topic" in "fetch failed 4 times"), at most four.
 */
export function kafkaErrorText(error: unknown): string {
  const seen: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (seen.length >= 4 || depth > 4 || e === null || e === undefined) return;
    const text = e instanceof Error ? e.message : typeof e === "string" ? e : "";
    for (const part of text.split(/(?<=\.): /)) {
      const clean = part.trim();
      if (clean !== "" && !seen.includes(clean) && seen.length < 4) seen.push(clean);
    }
    if (typeof e === "object") {
      const inner = (e as { errors?: unknown }).errors;
      if (Array.isArray(inner)) for (const item of inner) visit(item, depth + 1);
      visit((e as { cause?: unknown }).cause, depth + 1);
    }
  };
  visit(error, 0);
  return seen.length > 0 ? seen.join(": ") : String(error);
}
