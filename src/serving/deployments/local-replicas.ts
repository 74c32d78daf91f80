/**
 * The replicas of one local deployment: `capstan serve` child processes, each in a process group of
 * its own (stopped as a group through process-groups/), each on its own port (the serve process
 * picks a free one and says which on stderr), healthy when /ping answers 200 and the model has a
 * ready worker (/v2/models/NAME/ready); a model that could not load fails the replica at once.
 *
 * `step()` makes at most one change per call, so a roll goes one replica at a time and the new one
 * is healthy before an old one stops: start a replica of the wanted version while fewer than wanted
 * serve it and at most one more than wanted runs; else stop one of another version; else stop one
 * too many. A replica that fails to start is retried with a growing delay (2 s doubling to 60 s).
 *
 * With an inference key (the deployment's token authorization) every replica reads it from
 * `inference.key` (mode 0600) through config.properties' inference_key_file and asks for it on its
 * inference API; the readiness checks send it. The key never reaches a command line or a log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { signalGroup } from "../../process-groups/index.js";
import type { ReplicaView } from "../../operations/index.js";

/** How a replica is started: the CLI's argv prefix, the environment, and where the deployment keeps its files. */
export interface LocalReplicaOptions {
  /** The deployment's name. */
  name: string;
  /** Its folder: the model store, config.properties and one log per replica. */
  dir: string;
  /** argv that runs `capstan` (capstanCommand()). */
  command: readonly string[];
  env: NodeJS.ProcessEnv;
  /** How long a replica has to answer /ping (default 120 s). */
  startTimeoutMs?: number;
  /** The deployment's inference key, which every replica asks for; undefined: token authorization off. */
  inferenceKey?: string | undefined;
  /** How long a stopping replica has before SIGKILL (default 10 s). */
  stopGraceMs?: number;
}

interface Replica {
  id: number;
  model: string;
  version: number;
  state: ReplicaView["state"];
  child: ChildProcess;
  url: string | null;
  message: string | null;
  log: WriteStream;
  exited: Promise<void>;
}

/** A failed start is retried after this, doubled for each failure in a row up to RETRY_MAX_MS. */
const RETRY_DELAY_MS = 2_000;
const RETRY_MAX_MS = 60_000;

export class LocalReplicaSet {
  readonly #options: LocalReplicaOptions;
  #replicas: Replica[] = [];
  #nextId = 0;
  #lastFailure: { at: number; message: string; inARow: number } | undefined;

  constructor(options: LocalReplicaOptions) {
    this.#options = options;
    mkdirSync(join(options.dir, "store"), { recursive: true, mode: 0o700 });
    const keyFile = join(options.dir, "inference.key");
    if (options.inferenceKey !== undefined) {
      writeFileSync(keyFile, `${options.inferenceKey}\n`, { mode: 0o600 });
      chmodSync(keyFile, 0o600);
    } else {
      rmSync(keyFile, { force: true });
    }
    writeFileSync(
      join(options.dir, "config.properties"),
      [
        "inference_address=http://127.0.0.1:0",
        "management_address=http://127.0.0.1:0",
        "metrics_address=http://127.0.0.1:0",
        "default_workers_per_model=1",
        ...(options.inferenceKey !== undefined ? [`inference_key_file=${keyFile}`] : ["disable_token_authorization=true"]),
        "",
      ].join("\n"),
    );
  }

  /** The model store replicas load from; the controller puts each version's archive there. */
  get store(): string {
    return join(this.#options.dir, "store");
  }

  /** The replicas as they are now, for the deployment's record. */
  views(): ReplicaView[] {
    return this.#replicas.map((r) => ({ replica: String(r.id), version: r.version, state: r.state, url: r.url, pid: r.child.pid ?? null, message: r.message }));
  }

  /** Why the last start failed, while no replica serves. */
  get failure(): string | undefined {
    return this.#lastFailure?.message;
  }

  /** True when `count` replicas serve `version` and no other runs. */
  settled(version: number, count: number): boolean {
    return this.#replicas.length === count && this.#replicas.every((r) => r.version === version && r.state === "ready");
  }

  /** Makes one change towards `count` ready replicas of `version` (archive: the file name in the store). */
  step(model: string, version: number, archive: string, count: number): void {
    this.#replicas = this.#replicas.filter((r) => r.state !== "failed");
    if (this.#replicas.some((r) => r.state === "starting" || r.state === "stopping")) return;
    const current = this.#replicas.filter((r) => r.version === version);
    const others = this.#replicas.filter((r) => r.version !== version);
    if (current.length < count && this.#replicas.length <= count) {
      const failure = this.#lastFailure;
      if (failure && Date.now() - failure.at < Math.min(RETRY_MAX_MS, RETRY_DELAY_MS * 2 ** (failure.inARow - 1))) return;
      this.#start(model, version, archive);
      return;
    }
    const surplus = others[0] ?? (current.length > count ? current.at(-1) : undefined);
    if (surplus) void this.#stop(surplus);
  }

  /** Stops every replica and waits for them. */
  async stopAll(): Promise<void> {
    await Promise.all(this.#replicas.map((r) => this.#stop(r)));
    this.#replicas = [];
  }

  #start(model: string, version: number, archive: string): void {
    const id = this.#nextId++;
    const log = createWriteStream(join(this.#options.dir, `replica-${id}.log`), { flags: "a", mode: 0o600 });
    const child = spawn(
      this.#options.command[0]!,
      [...this.#options.command.slice(1), "serve", "--model-store", this.store, "--models", `${model}=${archive}`, "--ts-config", join(this.#options.dir, "config.properties")],
      { cwd: this.#options.dir, env: this.#options.env, detached: true, stdio: ["ignore", "ignore", "pipe"] },
    );
    const replica: Replica = { id, model, version, state: "starting", child, url: null, message: null, log, exited: new Promise((resolve) => child.once("close", () => resolve())) };
    this.#replicas.push(replica);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      log.write(chunk);
      if (replica.url === null) {
        stderr += chunk.toString();
        const match = /capstan serve: inference (http:\/\/\S+?),/.exec(stderr);
        if (match?.[1]) replica.url = match[1];
        const failed = /could not load [^\n]*/.exec(stderr);
        if (failed) {
          this.#fail(replica, failed[0]);
          void this.#stop(replica, "failed");
        }
      }
    });
    child.once("error", (error) => this.#fail(replica, `could not start capstan serve: ${error.message}`));
    child.once("exit", (code, signal) => {
      log.end();
      if (replica.state !== "stopping") this.#fail(replica, `capstan serve exited (${signal ?? `code ${code}`}); see ${join(this.#options.dir, `replica-${id}.log`)}`);
    });
    void this.#awaitHealthy(replica);
  }

  async #awaitHealthy(replica: Replica): Promise<void> {
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 120_000);
    while (replica.state === "starting") {
      if (Date.now() > deadline) {
        this.#fail(replica, `did not answer /ping within ${Math.round((this.#options.startTimeoutMs ?? 120_000) / 1000)} s`);
        void this.#stop(replica, "failed");
        return;
      }
      if (replica.url !== null) {
        try {
          const headers: Record<string, string> = this.#options.inferenceKey !== undefined ? { authorization: `Bearer ${this.#options.inferenceKey}` } : {};
          const ping = await fetch(`${replica.url}/ping`, { headers, signal: AbortSignal.timeout(2_000) });
          const model = ping.status === 200 ? await fetch(`${replica.url}/v2/models/${encodeURIComponent(replica.model)}/ready`, { headers, signal: AbortSignal.timeout(2_000) }) : undefined;
          const ready = model?.status === 200 && ((await model.json()) as { ready?: boolean }).ready === true;
          if (ready && replica.state === "starting") {
            replica.state = "ready";
            this.#lastFailure = undefined;
            return;
          }
        } catch {
          // not listening yet
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  #fail(replica: Replica, message: string): void {
    if (replica.state === "failed" || replica.state === "stopping") return;
    replica.state = "failed";
    replica.message = message;
    this.#lastFailure = { at: Date.now(), message: `replica ${replica.id}: ${message}`, inARow: (this.#lastFailure?.inARow ?? 0) + 1 };
  }

  async #stop(replica: Replica, finalState: "stopping" | "failed" = "stopping"): Promise<void> {
    if (replica.state !== "failed") replica.state = finalState;
    const pid = replica.child.pid;
    if (pid !== undefined && replica.child.exitCode === null && replica.child.signalCode === null) {
      signalGroup(pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), this.#options.stopGraceMs ?? 10_000);
      await replica.exited;
      clearTimeout(timer);
      // Workers the server left behind in its group go too.
      signalGroup(pid, "SIGKILL");
    }
    this.#replicas = this.#replicas.filter((r) => r !== replica);
  }

  /** Whether the store holds `archive` already. */
  has(archive: string): boolean {
    return existsSync(join(this.store, archive));
  }
}
