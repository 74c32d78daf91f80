/**
 * The child processes of the test control plane. Each runs in its own process group with its
 * output in a log file. They are stopped by `stop()`, on this process's exit, and, should this
 * process die without running exit handlers (SIGKILL, a crash), by a watchdog that kills them
 * when its stdin pipe from this process closes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { KubeTestenvError } from "./errors.js";

/** One running component. */
export interface ComponentProcess {
  name: string;
  logFile: string;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Set once the process has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

const WATCHDOG_SCRIPT = `
pids=()
while read -r line; do
  if [ "$line" = stop ]; then exit 0; fi
  pids+=("$line")
done
for pid in "\${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
`;

/** Returns the last `lines` lines of a log file (empty when unreadable). */
export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Starts, tracks and stops the components of one environment. */
export class ProcessGroup {
  private readonly components: ComponentProcess[] = [];
  private readonly watchdog: ChildProcess;
  private readonly onExit = (): void => {
    this.killAllSync();
  };
  private stopped = false;

  constructor() {
    this.watchdog = spawn("bash", ["-c", WATCHDOG_SCRIPT], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
    this.watchdog.unref();
    (this.watchdog.stdin as Writable & { unref?: () => void }).unref?.();
    process.once("exit", this.onExit);
  }

  /** Starts `command` with its stdout and stderr appended to `logFile`. */
  start(name: string, command: string, args: string[], logFile: string): ComponentProcess {
    const fd = openSync(logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
    const component: ComponentProcess = {
      name,
      logFile,
      child,
      exit: undefined,
      exited: new Promise<void>((resolve) => {
        child.once("exit", (code, signal) => {
          component.exit = { code, signal };
          resolve();
        });
        child.once("error", () => {
          component.exit ??= { code: null, signal: null };
          resolve();
        });
      }),
    };
    if (child.pid !== undefined) this.watchdog.stdin?.write(`${child.pid}\n`);
    this.components.push(component);
    return component;
  }

  /** Throws when `component` has exited (used while waiting for readiness). */
  assertRunning(component: ComponentProcess): void {
    if (component.exit === undefined) return;
    const how = component.exit.signal ?? `exit code ${component.exit.code}`;
    throw new KubeTestenvError(
      component.name,
      `exited during startup (${how}); last lines of ${component.logFile}:\n${logTail(component.logFile)}`,
      { logFile: component.logFile },
    );
  }

  /** Stops all components in reverse start order: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const component of [...this.components].reverse()) {
      if (component.exit !== undefined || component.child.pid === undefined) continue;
      signalGroup(component.child.pid, "SIGTERM");
      const ended = await Promise.race([component.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!ended) {
        signalGroup(component.child.pid, "SIGKILL");
        await component.exited;
      }
    }
    process.removeListener("exit", this.onExit);
    this.watchdog.stdin?.end("stop\n");
  }

  private killAllSync(): void {
    for (const component of this.components) {
      if (component.exit === undefined && component.child.pid !== undefined) signalGroup(component.child.pid, "SIGKILL");
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
