/**
 * One wait of a kafka_sensor attempt: a consumer of its own (a group named after the attempt, no
 * commits) that reads the topic from given offsets and reports the first message matching the
 * sensor's filter (exact key and headers, or a CEL expression evaluated in order in the triggers'
 * filter worker, with its time and memory limits). Where reading starts is worked out once, at the attempt's start, and kept by the
 * caller, so a wait resumed after a restart reads from the same offsets and misses nothing.
 */
import type { Consumer, Message, MessagesStream } from "@platformatic/kafka";
import type { ResolvedConnection } from "../connections/index.js";
import type { KafkaSensorSpec } from "../pipelines/index.js";
import { decodeMessage, DEFAULT_BATCH_LIMITS, MessageFilter, messageBytes, type TriggerMessage } from "../streams/index.js";

type RawMessage = Message<Buffer | undefined, Buffer | undefined, Buffer, Buffer>;
type RawConsumer = Consumer<Buffer | undefined, Buffer | undefined, Buffer, Buffer>;

/** The matching message, as the attempt's outputs. */
export interface SensorMessage extends TriggerMessage {
  topic: string;
}

export interface KafkaSensorWaitEvents {
  /** The first matching message; the wait has stopped reading. */
  matched(message: SensorMessage): void;
  /** A message that could not be given (not UTF-8, not JSON, too large) or that the CEL filter rejected (an error, out of time). */
  skipped(reason: string): void;
  /** The consumer failed; the wait has stopped. */
  failed(error: Error): void;
}

/** Client options from a kafka connection: bootstrap servers, TLS on or off, SASL. */
export function kafkaClientOptions(connection: ResolvedConnection): { bootstrapBrokers: string[]; tls?: object; sasl?: { mechanism: "PLAIN"; username: string; password: string } } {
  const s = connection.settings;
  return {
    bootstrapBrokers: s.bootstrap_servers as string[],
    ...(s.tls === true ? { tls: {} } : {}),
    ...(s.sasl_mechanism !== undefined
      ? { sasl: { mechanism: s.sasl_mechanism as "PLAIN", username: String(s.sasl_username), password: connection.secretValues.sasl_password ?? "" } }
      : {}),
  };
}

/** Whether a message's key and headers match the filter (exact text; a filter without fields matches everything). */
export function matchesFilter(message: Pick<RawMessage, "key" | "headers">, filter: KafkaSensorSpec["filter"]): boolean {
  if (filter.key !== undefined && (message.key === undefined || message.key === null || message.key.toString("utf8") !== filter.key)) return false;
  for (const [name, wanted] of Object.entries(filter.headers ?? {})) {
    let found = false;
    for (const [header, value] of message.headers ?? new Map<Buffer, Buffer>()) {
      if (header.toString("utf8") === name && value.toString("utf8") === wanted) found = true;
    }
    if (!found) return false;
  }
  return true;
}

async function newConsumer(connection: ResolvedConnection, groupId: string): Promise<RawConsumer> {
  const { Consumer } = await import("@platformatic/kafka");
  return new Consumer<Buffer | undefined, Buffer | undefined, Buffer, Buffer>({
    clientId: "capstan-sensor",
    groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 3_000,
    autocommit: false,
    retries: 3,
    ...kafkaClientOptions(connection),
  });
}

/**
 * The offset of each partition where a wait starts: the first message at or after `sinceMs`
 * (offsets-for-times; `latest` passes the attempt's start, `run_start` the run's start; the topic's
 * end where no such message is), or the topic's beginning (`earliest`). `latest` is read by time,
 * not as the topic's end at the moment the offsets are worked out (in the background, or after a
 * restart), so a message produced after the attempt started is never missed.
 */
export async function startOffsets(connection: ResolvedConnection, spec: KafkaSensorSpec, sinceMs: number, groupId: string): Promise<Map<number, bigint>> {
  const consumer = await newConsumer(connection, groupId);
  try {
    const ends = (await consumer.listOffsets({ topics: [spec.topic], timestamp: -1n })).get(spec.topic) ?? [];
    if (ends.length === 0) throw new Error(`topic ${spec.topic} has no partitions`);
    const starts = (await consumer.listOffsets({ topics: [spec.topic], timestamp: spec.from === "earliest" ? -2n : BigInt(Math.max(0, Math.floor(sinceMs))) })).get(spec.topic) ?? [];
    return new Map(ends.map((end, partition) => {
      const start = starts[partition];
      return [partition, start === undefined || start < 0n ? end : start];
    }));
  } finally {
    await consumer.close().catch(() => undefined);
  }
}

export class KafkaSensorWait {
  #consumer: RawConsumer | undefined;
  #stream: MessagesStream<Buffer | undefined, Buffer | undefined, Buffer, Buffer> | undefined;
  #done = false;
  /** Decoded messages waiting for the CEL filter, in offset order per partition. */
  readonly #pending: TriggerMessage[] = [];
  #filtering: Promise<void> | undefined;
  readonly #expression: MessageFilter | undefined;

  constructor(
    readonly spec: KafkaSensorSpec,
    readonly groupId: string,
    private readonly events: KafkaSensorWaitEvents,
  ) {
    this.#expression = spec.filter.expression === undefined ? undefined : new MessageFilter(spec.filter.expression);
  }

  /** Starts reading from `offsets` (partition → first offset to read). */
  async start(connection: ResolvedConnection, offsets: ReadonlyMap<number, bigint>): Promise<void> {
    const consumer = await newConsumer(connection, this.groupId);
    this.#consumer = consumer;
    try {
      const stream = await consumer.consume({
        topics: [this.spec.topic],
        mode: "manual",
        offsets: [...offsets].map(([partition, offset]) => ({ topic: this.spec.topic, partition, offset })),
        maxWaitTime: 500,
      });
      this.#stream = stream;
      stream.on("data", (message: RawMessage) => this.#take(message));
      stream.on("error", (error: unknown) => this.#fail(error));
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops reading; nothing more is reported. */
  async stop(): Promise<void> {
    this.#done = true;
    const stream = this.#stream;
    const consumer = this.#consumer;
    this.#stream = undefined;
    this.#consumer = undefined;
    await stream?.close().catch(() => undefined);
    await consumer?.close().catch(() => undefined);
    this.#pending.length = 0;
    await this.#filtering;
    await this.#expression?.close();
  }

  #take(message: RawMessage): void {
    if (this.#done || !matchesFilter(message, this.spec.filter)) return;
    const where = `partition ${message.partition} offset ${String(message.offset)}`;
    const size = messageBytes(message);
    if (size > DEFAULT_BATCH_LIMITS.maxMessageBytes) {
      this.events.skipped(`${where}: the message is ${size} bytes, over the limit of ${DEFAULT_BATCH_LIMITS.maxMessageBytes} bytes an output may hold`);
      return;
    }
    const decoded = decodeMessage(message, this.spec.format);
    if ("reason" in decoded) {
      this.events.skipped(decoded.reason);
      return;
    }
    if (this.#expression) {
      this.#pending.push(decoded);
      // Reading waits while the filter is behind, so memory stays bounded on a busy topic.
      if (this.#pending.length >= 1_000) this.#stream?.pause();
      this.#filtering ??= this.#filterPending(this.#expression).finally(() => (this.#filtering = undefined));
      return;
    }
    this.#match(decoded);
  }

  #match(message: TriggerMessage): void {
    this.#done = true;
    void this.stop();
    this.events.matched({ topic: this.spec.topic, ...message });
  }

  async #filterPending(expression: MessageFilter): Promise<void> {
    try {
      while (!this.#done && this.#pending.length > 0) {
        const batch = this.#pending.splice(0, 100);
        const outcomes = await expression.apply(batch);
        for (const [index, outcome] of outcomes.entries()) {
          const message = batch[index];
          if (this.#done || !message) return;
          if ("reason" in outcome) this.events.skipped(`partition ${message.partition} offset ${message.offset}: ${outcome.reason}`);
          else if (outcome.match) {
            this.#match(message);
            return;
          }
        }
        if (this.#pending.length < 1_000) this.#stream?.resume();
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    void this.stop();
    this.events.failed(error instanceof Error ? error : new Error(String(error)));
  }
}
