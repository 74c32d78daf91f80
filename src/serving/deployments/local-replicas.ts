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
 * A replica's stderr goes straight to its log file (read back for its address and load errors), so
 * it keeps serving when `capstan up` dies; once ready it is recorded (replica-records.ts) and
 * `adopt()` takes live replicas of an earlier `capstan up` back instead of starting new ones.
 * An adopted replica is known by its pid and that process's start time and owner: `step()` and
 * every signal check them first, so a pid reused by another process is never signalled.
 *
 * With an inference key (the deployment's token authorization) every replica reads it from
 * `inference.key` (mode 0600) through config.properties' inference_key_file and asks for it on its
 * inference API; the readiness checks send it. The key never reaches a command line or a log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signalGroup } from "../../process-groups/index.js";
import type { ReplicaView } from "../../operations/index.js";
import { processStartTime } from "../../executors/local/index.js";
import { currentUid, groupMembers, highestRecordId, ownsProcess, readRecords, removeRecord, runsRecord, writeRecord, type ReplicaRecord } from "./replica-records.js";

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
  pid: number | undefined;
  /** Its process's start time (clock ticks since boot), which tells a reused pid apart. */
  pidStart: number | null;
  /** The process when this `capstan up` started it; undefined for an adopted one (watched by its pid). */
  child: ChildProcess | undefined;
  archive: string;
  startedAt: number;
  url: string | null;
  message: string | null;
  /** Its log, and where this start's lines begin. */
  logPath: string;
  logOffset: number;
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
    return this.#replicas.map((r) => ({ replica: String(r.id), version: r.version, state: r.state, url: r.url, pid: r.pid ?? null, message: r.message }));
  }

  /**
   * Takes back the replicas an earlier `capstan up` left running: a record whose pid is alive, runs
   * this replica's command line, answers /ping and has its model ready is adopted as ready; one that
   * is ours but does not answer is stopped; a dead or foreign one is forgotten (never signalled).
   * Answers the pids adopted.
   */
  async adopt(): Promise<number[]> {
    const adopted: number[] = [];
    this.#nextId = Math.max(this.#nextId, highestRecordId(this.#options.dir) + 1);
    for (const record of readRecords(this.#options.dir)) {
      this.#nextId = Math.max(this.#nextId, record.id + 1);
      // Not this user's process with the recorded start time and command line: forgotten, never signalled, never sent the key.
      if (!runsRecord(this.#options.dir, record)) {
        removeRecord(this.#options.dir, record.id);
        continue;
      }
      const replica = this.#adopted(record);
      if (await this.#healthy(replica)) {
        replica.state = "ready";
        this.#replicas.push(replica);
        adopted.push(record.pid);
      } else {
        await this.#stop(replica);
      }
    }
    return adopted;
  }

  #adopted(record: ReplicaRecord): Replica {
    return {
      id: record.id,
      model: record.model,
      version: record.version,
      state: "starting",
      pid: record.pid,
      pidStart: record.pidStart,
      child: undefined,
      archive: record.archive,
      startedAt: record.startedAt,
      url: record.url,
      message: null,
      logPath: join(this.#options.dir, `replica-${record.id}.log`),
      logOffset: 0,
      exited: Promise.resolve(),
    };
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
    // An adopted replica has no child process to say it exited: its pid and that process's start time and owner are checked instead.
    for (const r of this.#replicas) if (r.child === undefined && r.pid !== undefined && r.state !== "stopping" && !ownsProcess(r.pid, r.pidStart)) this.#fail(r, "capstan serve exited");
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
    const logPath = join(this.#options.dir, `replica-${id}.log`);
    // stderr is the log file itself, not a pipe through this process, so the replica outlives a crash of it.
    const logFd = openSync(logPath, "a", 0o600);
    const logOffset = statSync(logPath).size;
    let child: ChildProcess;
    try {
      child = spawn(
        this.#options.command[0]!,
        [...this.#options.command.slice(1), "serve", "--model-store", this.store, "--models", `${model}=${archive}`, "--ts-config", join(this.#options.dir, "config.properties")],
        { cwd: this.#options.dir, env: this.#options.env, detached: true, stdio: ["ignore", "ignore", logFd] },
      );
    } finally {
      closeSync(logFd);
    }
    const replica: Replica = {
      id,
      model,
      version,
      state: "starting",
      pid: child.pid,
      pidStart: child.pid === undefined ? null : processStartTime(child.pid),
      child,
      archive,
      startedAt: Date.now(),
      url: null,
      message: null,
      logPath,
      logOffset,
      exited: new Promise((resolve) => child.once("close", () => resolve())),
    };
    this.#replicas.push(replica);
    child.once("error", (error) => this.#fail(replica, `could not start capstan serve: ${error.message}`));
    child.once("exit", (code, signal) => {
      if (replica.state !== "stopping") this.#fail(replica, `capstan serve exited (${signal ?? `code ${code}`}); see ${logPath}`);
    });
    void this.#awaitHealthy(replica);
  }

  /** What this start of the replica wrote to its log so far. */
  #logSince(replica: Replica): string {
    try {
      const size = statSync(replica.logPath).size;
      if (size <= replica.logOffset) return "";
      const fd = openSync(replica.logPath, "r");
      try {
        const buffer = Buffer.alloc(Math.min(size - replica.logOffset, 1 << 20));
        const read = readSync(fd, buffer, 0, buffer.length, replica.logOffset);
        return buffer.subarray(0, read).toString();
      } finally {
        closeSync(fd);
      }
    } catch {
      return "";
    }
  }

  /** Whether the replica answers /ping and says its model is ready (with the key when token authorization is on). */
  async #healthy(replica: Replica): Promise<boolean> {
    if (replica.url === null) return false;
    try {
      const headers: Record<string, string> = this.#options.inferenceKey !== undefined ? { authorization: `Bearer ${this.#options.inferenceKey}` } : {};
      const ping = await fetch(`${replica.url}/ping`, { headers, signal: AbortSignal.timeout(2_000) });
      const model = ping.status === 200 ? await fetch(`${replica.url}/v2/models/${encodeURIComponent(replica.model)}/ready`, { headers, signal: AbortSignal.timeout(2_000) }) : undefined;
      return model?.status === 200 && ((await model.json()) as { ready?: boolean }).ready === true;
    } catch {
      return false;
    }
  }

  async #awaitHealthy(replica: Replica): Promise<void> {
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 120_000);
    while (replica.state === "starting") {
      if (Date.now() > deadline) {
        this.#fail(replica, `did not answer /ping within ${Math.round((this.#options.startTimeoutMs ?? 120_000) / 1000)} s`);
        void this.#stop(replica, "failed");
        return;
      }
      const log = this.#logSince(replica);
      const failed = /could not load [^\n]*/.exec(log);
      if (failed) {
        this.#fail(replica, failed[0]);
        void this.#stop(replica, "failed");
        return;
      }
      if (replica.url === null) replica.url = /capstan serve: inference (http:\/\/\S+?),/.exec(log)?.[1] ?? null;
      if ((await this.#healthy(replica)) && replica.state === "starting") {
        replica.state = "ready";
        this.#lastFailure = undefined;
        if (replica.pid !== undefined && replica.pidStart !== null && replica.url !== null) {
          writeRecord(this.#options.dir, { id: replica.id, pid: replica.pid, pidStart: replica.pidStart, uid: currentUid(), url: replica.url, model: replica.model, version: replica.version, archive: replica.archive, startedAt: replica.startedAt });
        }
        return;
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
    const pid = replica.pid;
    if (pid !== undefined && replica.child === undefined) {
      // Adopted: no child to wait for; its group is signalled and its pid watched, each signal only
      // while the pid is still the recorded process (start time and owner), never a reused one.
      const ours = () => ownsProcess(pid, replica.pidStart);
      // The group's members while its leader is known to be ours: workers left behind once it exits.
      const members = ours() ? groupMembers(pid).filter((m) => m.pid !== pid) : [];
      if (ours()) signalGroup(pid, "SIGTERM");
      const deadline = Date.now() + (this.#options.stopGraceMs ?? 10_000);
      while (ours() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      if (ours()) signalGroup(pid, "SIGKILL");
      for (const member of members) {
        try {
          if (ownsProcess(member.pid, member.pidStart)) process.kill(member.pid, "SIGKILL");
        } catch {
          // exited meanwhile
        }
      }
      const killed = Date.now();
      // Until it is reaped too (a zombie keeps its pid and start time), so it is gone when this returns.
      const present = () => replica.pidStart !== null && processStartTime(pid) === replica.pidStart;
      while (present() && Date.now() - killed < 5_000) await new Promise((resolve) => setTimeout(resolve, 50));
    } else if (pid !== undefined && replica.child && replica.child.exitCode === null && replica.child.signalCode === null) {
      signalGroup(pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), this.#options.stopGraceMs ?? 10_000);
      await replica.exited;
      clearTimeout(timer);
      // Workers the server left behind in its group go too.
      signalGroup(pid, "SIGKILL");
    }
    removeRecord(this.#options.dir, replica.id);
    this.#replicas = this.#replicas.filter((r) => r !== replica);
  }

  /** Whether the store holds `archive` already. */
  has(archive: string): boolean {
    return existsSync(join(this.store, archive));
  }
}
