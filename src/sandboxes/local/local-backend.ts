/**
 * The `local` sandbox backend: JupyterLab from the project's venv as a detached process group on
 * this machine, bound to 127.0.0.1 on a free port, with HOME in the sandbox's home and a token only
 * Capstan holds. Sandboxes outlive Capstan; after a restart they are adopted by pid and process
 * start time, the way the local executor adopts attempts (the same /proc helpers).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { isProcessAlive, pidsWithToken, processStartTime, signalByToken } from "../../executors/local/index.js";
import type { SandboxBackend, SandboxExit, SandboxLaunch, SandboxRuntime } from "../backend.js";
import { SandboxStartError } from "../errors.js";
import { waitForJupyter } from "../jupyter-api.js";
import { freePort, jupyterArgv, jupyterConfig, sandboxEnv, sandboxMarker } from "./jupyter-launch.js";
import { prepareFolders, removeFolders, sandboxFolders } from "./sandbox-home.js";
import { startLocalSshd, type LocalSshd } from "../ssh/local-sshd.js";

export interface LocalSandboxBackendOptions {
  /** $CAPSTAN_HOME/sandboxes: homes, team volumes and runtime folders live here. */
  root: string;
  /** The Python whose environment has JupyterLab (the project's venv). */
  python: string;
  /** How long JupyterLab may take to answer (default 60 s). */
  startTimeoutMs?: number;
  /** How long a stop waits after SIGTERM before SIGKILL (default 5 s). */
  stopGraceMs?: number;
  /** How often adopted servers (not children of this process) are checked for life (default 2 s). */
  adoptedCheckMs?: number;
  /** Start an sshd per sandbox for SSH through Capstan's tunnel (default true; without openssh-server the sandbox has no SSH and says why). */
  ssh?: boolean;
}

/** The runtime facts of a local sandbox, as stored. */
interface LocalRuntime extends SandboxRuntime {
  pid: number;
  pidStart: number | null;
  port: number;
  ssh?: LocalSshd;
}

interface Watched {
  pid: number;
  pidStart: number | null;
  child?: ChildProcess;
  poll?: NodeJS.Timeout;
  stopping: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free port that is not `taken` (JupyterLab's, asked for just before and perhaps not bound yet). */
async function freePortOtherThan(taken: number): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port !== taken) return port;
  }
}

export class LocalSandboxBackend implements SandboxBackend {
  readonly kind = "local" as const;
  readonly #options: LocalSandboxBackendOptions;
  readonly #watched = new Map<string, Watched>();
  readonly #listeners: ((exit: SandboxExit) => void)[] = [];

  constructor(options: LocalSandboxBackendOptions) {
    this.#options = options;
  }

  onExit(listener: (exit: SandboxExit) => void): void {
    this.#listeners.push(listener);
  }

  /** The home folder of a sandbox (tests and the SSH tunnel read it). */
  homeOf(id: string): string {
    return sandboxFolders(this.#options.root, id).home;
  }

  async start(launch: SandboxLaunch, signal?: AbortSignal): Promise<SandboxRuntime> {
    const folders = sandboxFolders(this.#options.root, launch.id);
    // What a crashed run left (its sshd and SSH sessions, kernels) ends before the new run starts.
    const marker = sandboxMarker(launch.id);
    if ((await pidsWithToken(marker)).length > 0) await signalByToken(marker, "SIGKILL", new Set());
    prepareFolders(this.#options.root, folders, launch.team, launch.profile.volumes);
    const port = await freePort();
    writeFileSync(folders.configFile, jupyterConfig({ token: launch.token, port, home: folders.home }), { mode: 0o600 });
    const log = openSync(folders.logFile, "a", 0o600);
    let child: ChildProcess;
    try {
      const [command, ...args] = jupyterArgv(this.#options.python, folders.configFile);
      child = spawn(command!, args, {
        cwd: folders.home,
        env: sandboxEnv({ id: launch.id, home: folders.home, python: this.#options.python, configDir: folders.configDir, runtimeDir: folders.runtimeDir }),
        detached: true,
        stdio: ["ignore", log, log],
      });
    } finally {
      closeSync(log);
    }
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    let failed: Error | undefined;
    void spawnError.then((error) => (failed = error));
    let exited = false;
    child.once("exit", () => (exited = true));
    const pid = child.pid;
    if (pid === undefined) {
      const error = await spawnError;
      throw new SandboxStartError("crash", `cannot start JupyterLab with ${this.#options.python}: ${error.message}`, { cause: error });
    }
    child.unref();
    const watched: Watched = { pid, pidStart: processStartTime(pid), child, stopping: false };
    this.#watched.set(launch.id, watched);
    const upstream = `http://127.0.0.1:${port}/`;
    // sshd starts while JupyterLab does; a sandbox without SSH still runs, and says why it has none.
    const ssh: Promise<Pick<LocalRuntime, "ssh" | "sshUnavailable">> =
      this.#options.ssh === false
        ? Promise.resolve({ sshUnavailable: "SSH is turned off for local sandboxes on this server" })
        : freePortOtherThan(port)
            .then((sshPort) => startLocalSshd({ port: sshPort, home: folders.home, runDir: folders.runDir, env: sandboxEnv({ id: launch.id, home: folders.home, python: this.#options.python, configDir: folders.configDir, runtimeDir: folders.runtimeDir }) }))
            .then(
              (sshd) => ({ ssh: sshd }),
              (error: unknown) => ({ sshUnavailable: (error as Error).message }),
            );
    const outcome = await waitForJupyter(upstream, launch.token, {
      timeoutMs: this.#options.startTimeoutMs ?? 60_000,
      gone: () => exited || failed !== undefined,
      ...(signal ? { signal } : {}),
    });
    const sshd = await ssh;
    if (outcome !== "ready") {
      await this.stop(launch.id, { upstream, pid, pidStart: watched.pidStart, port, ...sshd });
      if (outcome === "aborted") throw new SandboxStartError("crash", "the start was cancelled");
      const tail = this.#logTail(folders.logFile);
      if (outcome === "timeout") throw new SandboxStartError("timeout", `JupyterLab did not answer within ${Math.round((this.#options.startTimeoutMs ?? 60_000) / 1000)} s${tail}`);
      throw new SandboxStartError("crash", `JupyterLab exited before it answered${failed ? ` (${failed.message})` : ""}${tail}`);
    }
    child.once("exit", (code, sig) => this.#ended(launch.id, watched, `JupyterLab exited (${sig ?? `exit code ${code ?? "?"}`})`));
    const runtime: LocalRuntime = { upstream, pid, pidStart: watched.pidStart, port, ...sshd };
    return runtime;
  }

  adopt(id: string, runtime: SandboxRuntime): Promise<boolean> {
    const { pid, pidStart } = runtime as LocalRuntime;
    if (typeof pid !== "number" || !isProcessAlive(pid, pidStart ?? null)) return Promise.resolve(false);
    const watched: Watched = { pid, pidStart: pidStart ?? null, stopping: false };
    watched.poll = setInterval(() => {
      if (!isProcessAlive(pid, watched.pidStart)) this.#ended(id, watched, "JupyterLab exited");
    }, this.#options.adoptedCheckMs ?? 2000);
    watched.poll.unref();
    this.#watched.set(id, watched);
    return Promise.resolve(true);
  }

  async stop(id: string, runtime: SandboxRuntime | null): Promise<void> {
    const watched = this.#watched.get(id);
    if (watched) watched.stopping = true;
    const local = runtime as LocalRuntime | null;
    const pid = watched?.pid ?? local?.pid;
    const pidStart = watched?.pidStart ?? local?.pidStart ?? null;
    const marker = sandboxMarker(id);
    // sshd first: no new SSH session starts while the rest stops (its sessions carry the marker).
    if (local?.ssh && isProcessAlive(local.ssh.pid, local.ssh.pidStart)) {
      try {
        process.kill(local.ssh.pid, "SIGTERM");
      } catch {
        // gone
      }
    }
    const leaderAlive = () => pid !== undefined && isProcessAlive(pid, pidStart);
    const signalAll = async (signal: NodeJS.Signals) => {
      if (leaderAlive()) {
        try {
          process.kill(-pid!, signal);
        } catch {
          // the group is gone
        }
      }
      // Kernels and terminals run in sessions of their own; the marker in their environment finds them.
      await signalByToken(marker, signal, new Set());
    };
    // JupyterLab shuts its kernels down on SIGTERM; give it the grace period.
    if (leaderAlive()) {
      try {
        process.kill(-pid!, "SIGTERM");
      } catch {
        // gone
      }
      const deadline = Date.now() + (this.#options.stopGraceMs ?? 5000);
      while (leaderAlive() && Date.now() < deadline) await sleep(25);
    }
    if (leaderAlive() || (await pidsWithToken(marker)).length > 0) await signalAll("SIGKILL");
    this.#forget(id);
  }

  removeHome(id: string): Promise<void> {
    removeFolders(sandboxFolders(this.#options.root, id));
    return Promise.resolve();
  }

  close(): Promise<void> {
    for (const id of [...this.#watched.keys()]) this.#forget(id);
    return Promise.resolve();
  }

  #ended(id: string, watched: Watched, reason: string): void {
    if (this.#watched.get(id) !== watched) return;
    this.#forget(id);
    if (watched.stopping) return;
    for (const listener of this.#listeners) listener({ id, reason });
  }

  #forget(id: string): void {
    const watched = this.#watched.get(id);
    if (watched?.poll) clearInterval(watched.poll);
    watched?.child?.removeAllListeners("exit");
    this.#watched.delete(id);
  }

  #logTail(file: string): string {
    try {
      const lines = readFileSync(file, "utf8").trimEnd().split("\n").slice(-8).join("\n");
      return lines ? `; its log ends with:\n${lines}` : "";
    } catch {
      return "";
    }
  }
}
