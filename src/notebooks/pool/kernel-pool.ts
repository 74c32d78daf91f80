/**
 * The warm kernel pool `capstan up` runs: keeps `size` ready kernels per kernelspec in a
 * directory, replaces ones that die idle or get claimed, clears what a previous pool process left
 * there, and shuts down its unclaimed kernels on stop. A claimed kernel belongs to its claimer.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signalGroupOrProcess } from "../../process-groups/index.js";
import { KernelClient } from "../kernel/kernel-client.js";
import { kernelArgv, kernelEnvironment, waitForReady } from "../kernel/kernel-handle.js";
import { newConnectionInfo, writeConnectionFile, type Transport } from "../kernel/connection-file.js";
import { isProcessAlive, processStartTime, spawnKernelProcess, type WatchedProcess } from "../kernel/kernel-process.js";
import { findKernelSpec, type KernelSpec } from "../kernel/kernelspec.js";
import { forkableArgv, KernelForkServer } from "./kernel-fork-server.js";
import { PoolLayout, readTicket, writeTicket, type PoolTicket } from "./pool-layout.js";

/** How long a claimed kernel may outlive its claimer before the pool kills it. */
const ORPHAN_GRACE_MS = 10_000;

/** Options of {@link KernelPool}. */
export interface KernelPoolOptions {
  /** the pool directory (give the same path to runs as $CAPSTAN_KERNEL_POOL_DIR) */
  dir: string;
  /** ready kernels kept per kernelspec (default 1) */
  size?: number;
  /** the kernelspec names to keep warm, e.g. ["python3"] */
  kernelspecs: string[];
  /** the Python whose prefix holds kernelspecs ($CAPSTAN_PYTHON) */
  python?: string | undefined;
  /** the environment kernels start with (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /** the working directory kernels start in (default: this process's) */
  cwd?: string;
  transport?: Transport;
  /** seconds a kernel may take to start (default 60) */
  startTimeoutSeconds?: number;
  /** how often claims are noticed, in ms (default 200) */
  checkIntervalMs?: number;
  /** receives problems (a kernel that failed to start) */
  log?: (message: string) => void;
  /**
   * Start ipykernel kernels as forks of a server that has imported IPython once (default true): a
   * sixth of the CPU of a cold start. Other kernelspecs, or a server that fails, start cold.
   */
  forkServer?: boolean;
}

/** The state of one kernelspec's share of the pool. */
export interface KernelPoolStatus {
  kernelspec: string;
  ready: number;
  starting: number;
  /** kernels claimed by notebook runs since the pool started */
  claimed: number;
}

interface PoolKernel {
  ticket: PoolTicket;
  process: WatchedProcess;
}

/** The pool directory is held by another live pool process. */
export class KernelPoolBusyError extends Error {
  override readonly name = "KernelPoolBusyError";
  constructor(readonly dir: string, readonly ownerPid: number) {
    super(`the kernel pool directory ${dir} is in use by process ${ownerPid}; stop that process or give this pool another directory`);
  }
}

/** Keeps warm kernels ready. `start()` once, `stop()` once. */
export class KernelPool {
  private readonly layout: PoolLayout;
  private readonly size: number;
  private readonly specs = new Map<string, KernelSpec>();
  private readonly ready = new Map<string, PoolKernel[]>();
  private readonly starting = new Map<string, number>();
  private readonly claimed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** the check in progress: checks never overlap, and stop() waits for the last one */
  private checking: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failures = new Map<string, number>();
  /** when each claimed kernel was first seen without its claimer */
  private readonly orphanedSince = new Map<string, number>();
  /** fork servers by interpreter argv; undefined where one could not start */
  private readonly forkServers = new Map<string, Promise<KernelForkServer | undefined>>();

  constructor(private readonly options: KernelPoolOptions) {
    this.layout = new PoolLayout(options.dir);
    this.size = Math.max(0, options.size ?? 1);
  }

  /** Clears stale entries, resolves the kernelspecs and starts filling the pool. */
  async start(): Promise<void> {
    for (const name of this.options.kernelspecs) {
      const spec = await findKernelSpec(name, { env: this.options.env ?? process.env, python: this.options.python });
      this.specs.set(spec.name, spec);
      this.ready.set(spec.name, []);
      this.starting.set(spec.name, 0);
    }
    await this.layout.create([...this.specs.keys()]);
    await this.takeOwnership();
    await this.cleanStale();
    this.fill();
    this.timer = setInterval(() => {
      this.checking ??= this.check()
        .catch((error: unknown) => this.options.log?.(`kernel pool: check failed: ${(error as Error).message}`))
        .finally(() => (this.checking = undefined));
    }, this.options.checkIntervalMs ?? 200);
    this.timer.unref();
  }

  /** Resolves when every kernelspec has `size` ready kernels (for tests and benchmarks). */
  async whenFull(timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.status().some((entry) => entry.ready < this.size)) {
      if (Date.now() > end) {
        throw new Error(`the kernel pool did not fill within ${Math.round(timeoutMs / 1000)} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** How many kernels are ready and starting, per kernelspec. */
  status(): KernelPoolStatus[] {
    return [...this.specs.keys()].map((kernelspec) => ({
      kernelspec,
      ready: this.ready.get(kernelspec)?.length ?? 0,
      starting: this.starting.get(kernelspec) ?? 0,
      claimed: this.claimed.get(kernelspec) ?? 0,
    }));
  }

  /**
   * Kills every unclaimed kernel at once, for a process that must exit now (a second Ctrl-C);
   * their files are cleared by the next pool on this directory.
   */
  killNow(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const kernel of [...this.ready.values()].flat()) kernel.process.signal("SIGKILL");
  }

  /** Stops filling and shuts down every unclaimed kernel. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    // A check still running would take the tickets that stop() retires for claimed ones.
    await this.checking;
    await Promise.allSettled([...this.inFlight]);
    const kernels = [...this.ready.values()].flat();
    await Promise.all(kernels.map((kernel) => this.retire(kernel)));
    for (const server of this.forkServers.values()) (await server)?.stop();
    await rm(this.layout.owner, { force: true });
  }

  private async takeOwnership(): Promise<void> {
    try {
      const owner = JSON.parse(await readFile(this.layout.owner, "utf8")) as { pid: number; startTime?: string };
      if (owner.pid !== process.pid && isProcessAlive(owner.pid, owner.startTime)) {
        throw new KernelPoolBusyError(this.options.dir, owner.pid);
      }
    } catch (error) {
      if (error instanceof KernelPoolBusyError) {
        throw error;
      }
    }
    await writeFile(this.layout.owner, JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) }), { mode: 0o600 });
  }

  /** Ends kernels a previous pool process left: idle ones, and claimed ones whose claimer is gone. */
  private async cleanStale(): Promise<void> {
    const stale: { path: string; ticket: PoolTicket | undefined }[] = [];
    for (const kernelspec of await readdir(this.layout.readyRoot).catch(() => [] as string[])) {
      for (const entry of await readdir(this.layout.readyDir(kernelspec)).catch(() => [] as string[])) {
        const path = join(this.layout.readyDir(kernelspec), entry);
        stale.push({ path, ticket: await readTicket(path) });
      }
    }
    for (const entry of await readdir(this.layout.claimedDir).catch(() => [] as string[])) {
      const path = join(this.layout.claimedDir, entry);
      const ticket = await readTicket(path);
      const claimer = ticket?.claimedBy;
      if (!claimer || !isProcessAlive(claimer.pid, claimer.startTime)) {
        stale.push({ path, ticket });
      }
    }
    for (const { path, ticket } of stale) {
      if (ticket) {
        if (isProcessAlive(ticket.pid, ticket.startTime)) {
          signalGroupOrProcess(ticket.pid, "SIGKILL");
        }
        await rm(ticket.socketDir, { recursive: true, force: true });
        await rm(this.layout.log(ticket.id), { force: true });
      }
      await rm(path, { force: true });
    }
  }

  private fill(): void {
    if (this.stopped) {
      return;
    }
    for (const [name, spec] of this.specs) {
      const missing = this.size - (this.ready.get(name)?.length ?? 0) - (this.starting.get(name) ?? 0);
      for (let index = 0; index < missing; index += 1) {
        const task = this.startOne(spec).finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
      }
    }
  }

  /** Notices claimed and dead kernels, then refills. */
  private async check(): Promise<void> {
    await this.sweepClaimed();
    for (const [name, kernels] of this.ready) {
      const kept: PoolKernel[] = [];
      for (const kernel of kernels) {
        const path = this.layout.readyTicket(name, kernel.ticket.id);
        const present = await readFile(path).then(
          () => true,
          () => false,
        );
        if (!present) {
          this.claimed.set(name, (this.claimed.get(name) ?? 0) + 1);
          kernel.process.dispose(); // claimed: the claimer owns it now
          continue;
        }
        if (kernel.process.exit !== undefined) {
          await this.retire(kernel);
          continue;
        }
        kept.push(kernel);
      }
      this.ready.set(name, kept);
    }
    this.fill();
  }

  /**
   * Ends claimed kernels whose claimer is gone (a claimer returns once its kernel acknowledged the
   * shutdown; this finishes the job) and removes their files.
   */
  private async sweepClaimed(): Promise<void> {
    for (const entry of await readdir(this.layout.claimedDir).catch(() => [] as string[])) {
      const path = join(this.layout.claimedDir, entry);
      const ticket = await readTicket(path);
      const claimer = ticket?.claimedBy;
      if (!ticket || !claimer || isProcessAlive(claimer.pid, claimer.startTime)) {
        continue;
      }
      if (isProcessAlive(ticket.pid, ticket.startTime)) {
        // Give a kernel that is exiting after its shutdown_request time for its atexit handlers.
        const since = this.orphanedSince.get(ticket.id) ?? Date.now();
        this.orphanedSince.set(ticket.id, since);
        if (Date.now() - since < ORPHAN_GRACE_MS) {
          continue;
        }
        signalGroupOrProcess(ticket.pid, "SIGKILL");
      }
      this.orphanedSince.delete(ticket.id);
      await rm(path, { force: true });
      await rm(ticket.socketDir, { recursive: true, force: true });
      await rm(this.layout.log(ticket.id), { force: true });
    }
  }

  private async startOne(spec: KernelSpec): Promise<void> {
    this.starting.set(spec.name, (this.starting.get(spec.name) ?? 0) + 1);
    const id = `${Date.now().toString(36).padStart(9, "0")}-${randomBytes(4).toString("hex")}`;
    const socketDir = await mkdtemp(join(tmpdir(), "capstan-pool-"));
    let process_: WatchedProcess | undefined;
    try {
      const connection = await newConnectionInfo(socketDir, spec.name, this.options.transport ?? "ipc");
      const connectionFile = join(socketDir, "connection.json");
      await writeConnectionFile(connectionFile, connection);
      const env = kernelEnvironment(spec, this.options.env ?? process.env, false);
      const argv = kernelArgv(spec, connectionFile, this.options.python);
      const cwd = this.options.cwd ?? process.cwd();
      process_ = await this.forkKernel(argv, cwd, env, this.layout.log(id));
      if (!process_) {
        const log = await open(this.layout.log(id), "a", 0o600);
        try {
          process_ = spawnKernelProcess(argv, { cwd, env, output: log.fd });
        } finally {
          await log.close();
        }
      }
      const client = KernelClient.connect(connection);
      try {
        await waitForReady(client, process_, (this.options.startTimeoutSeconds ?? 60) * 1000, spec.name);
      } finally {
        client.close();
      }
      const ticket: PoolTicket = {
        id,
        kernelspec: spec.name,
        pid: process_.pid,
        startTime: processStartTime(process_.pid),
        connection,
        socketDir,
        launchEnv: Object.fromEntries(Object.entries(env).filter((pair): pair is [string, string] => pair[1] !== undefined)),
      };
      const kernel: PoolKernel = { ticket, process: process_ };
      if (this.stopped) {
        await this.retire(kernel, false);
        return;
      }
      await writeTicket(this.layout.readyTicket(spec.name, id), ticket);
      this.ready.get(spec.name)?.push(kernel);
      this.failures.set(spec.name, 0);
    } catch (error) {
      process_?.signal("SIGKILL");
      await rm(socketDir, { recursive: true, force: true });
      await rm(this.layout.log(id), { force: true });
      const failures = (this.failures.get(spec.name) ?? 0) + 1;
      this.failures.set(spec.name, failures);
      this.options.log?.(`kernel pool: a '${spec.name}' kernel did not start: ${(error as Error).message}`);
      // Back off so a broken kernelspec does not spin.
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 500 * 2 ** failures)).unref());
    } finally {
      this.starting.set(spec.name, Math.max(0, (this.starting.get(spec.name) ?? 1) - 1));
    }
  }

  /** Starts the kernel as a fork of a warm server when it is an ipykernel; undefined means start it cold. */
  private async forkKernel(argv: string[], cwd: string, env: NodeJS.ProcessEnv, logPath: string): Promise<WatchedProcess | undefined> {
    const forkable = this.options.forkServer === false ? undefined : forkableArgv(argv);
    if (!forkable) return undefined;
    const key = JSON.stringify(forkable.interpreter);
    let server = this.forkServers.get(key);
    if (!server) {
      server = KernelForkServer.start(forkable.interpreter, { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }).catch((error: unknown) => {
        this.options.log?.(`kernel pool: kernels start cold (the fork server did not start: ${(error as Error).message})`);
        return undefined;
      });
      this.forkServers.set(key, server);
    }
    const running = await server;
    if (!running?.running) return undefined;
    try {
      return await running.fork(forkable.args, { cwd, env, logPath });
    } catch (error) {
      this.options.log?.(`kernel pool: a fork failed, starting cold: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Shuts down an unclaimed kernel, unless a claimer takes it first. */
  private async retire(kernel: PoolKernel, hasTicket = true): Promise<void> {
    const { ticket } = kernel;
    if (hasTicket) {
      const retiring = join(this.layout.dir, `retiring-${ticket.id}.json`);
      try {
        await rename(this.layout.readyTicket(ticket.kernelspec, ticket.id), retiring);
      } catch {
        kernel.process.dispose(); // claimed meanwhile
        return;
      }
      await rm(retiring, { force: true });
    }
    if (kernel.process.exit === undefined) {
      kernel.process.signal("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([kernel.process.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 3000)))]);
      clearTimeout(timer);
      if (!exited) {
        this.options.log?.(`kernel pool: kernel ${String(ticket.pid)} did not end within 3 s of SIGTERM; killing it`);
        kernel.process.signal("SIGKILL");
        await Promise.race([kernel.process.exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      }
    }
    kernel.process.dispose();
    await rm(ticket.socketDir, { recursive: true, force: true });
    await rm(this.layout.log(ticket.id), { force: true });
  }
}
