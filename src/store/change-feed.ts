/**
 * State changes shared by the processes of one PostgreSQL database: a scheduler announces what it
 * wrote with NOTIFY, and the others hear it on a connection of their own (LISTEN). A run triggered
 * or a task freed by one replica is then picked up by the others at once instead of at their next
 * sweep, and every replica's live views see every change. (SQLite has one scheduler per database,
 * so it has no feed.)
 */
import pg from "pg";

const CHANNEL = "capstan_changes";
/** NOTIFY payloads must stay under 8,000 bytes. */
const MAX_PAYLOAD_BYTES = 7000;
const RECONNECT_MS = [500, 1000, 2000, 5000, 10_000];

/** One announcement: who wrote, and what changed. */
export interface ChangeMessage {
  from: string;
  changes: unknown[];
}

export type ChangeListener = (message: ChangeMessage) => void;

export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  #client: pg.Client | undefined;
  #listening = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #closed = false;

  constructor(
    private readonly clientConfig: pg.ClientConfig,
    private readonly pool: pg.Pool,
  ) {}

  /** Calls `listener` for every announcement (its own included); returns the function that stops it. */
  listen(listener: ChangeListener, onProblem: (message: string) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#listening) {
      this.#listening = true;
      void this.#connect(onProblem);
    }
    return () => this.#listeners.delete(listener);
  }

  /** Announces changes, in as many notifications as their size needs. */
  async announce(from: string, changes: readonly unknown[]): Promise<void> {
    let batch: unknown[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await this.pool.query("select pg_notify($1, $2)", [CHANNEL, JSON.stringify({ from, changes: batch } satisfies ChangeMessage)]);
      batch = [];
      bytes = 0;
    };
    for (const change of changes) {
      const size = Buffer.byteLength(JSON.stringify(change)) + 1;
      if (bytes + size > MAX_PAYLOAD_BYTES - 64) await flush();
      batch.push(change);
      bytes += size;
    }
    await flush();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#listeners.clear();
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(onProblem: (message: string) => void): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.clientConfig);
    const reconnect = (why: string) => {
      if (this.#closed || this.#client !== client) return;
      this.#client = undefined;
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      const delay = RECONNECT_MS[Math.min(this.#failures, RECONNECT_MS.length - 1)] ?? 10_000;
      this.#failures += 1;
      onProblem(`the change feed lost its connection (${why}); other replicas' changes arrive at the next sweep until it reconnects in ${delay} ms`);
      this.#retryTimer = setTimeout(() => void this.#connect(onProblem), delay);
      this.#retryTimer.unref();
    };
    this.#client = client;
    client.on("notification", (notification) => {
      if (notification.channel !== CHANNEL || notification.payload === undefined) return;
      let message: ChangeMessage;
      try {
        message = JSON.parse(notification.payload) as ChangeMessage;
      } catch {
        return;
      }
      if (typeof message.from !== "string" || !Array.isArray(message.changes)) return;
      for (const listener of this.#listeners) listener(message);
    });
    client.on("error", (error) => reconnect(error.message));
    client.on("end", () => reconnect("the connection ended"));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.#failures = 0;
      if (this.#closed) await client.end();
    } catch (error) {
      reconnect((error as Error).message);
    }
  }
}
