/**
 * Claims a warm kernel from a pool directory: one atomic rename makes it this process's, then a
 * silent setup execution (no history, no execution count) gives it the cwd and environment a cold
 * start would have had, and a watcher thread that ends it if this process dies. Any problem
 * means "no warm kernel": the caller cold-starts.
 */
import { readdir, rename, rm } from "node:fs/promises";
import { signalGroup } from "../../process-groups/index.js";
import { KernelClient } from "../kernel/kernel-client.js";
import { KernelHandle, kernelEnvironment, waitForReady } from "../kernel/kernel-handle.js";
import { isProcessAlive, processStartTime, watchProcess } from "../kernel/kernel-process.js";
import type { KernelSpec } from "../kernel/kernelspec.js";
import { PoolLayout, readTicket, startSensitiveDifferences, writeTicket, type PoolTicket } from "./pool-layout.js";

/** Options of {@link claimPooledKernel}. */
export interface ClaimKernelOptions {
  /** the pool directory ($CAPSTAN_KERNEL_POOL_DIR) */
  dir: string;
  spec: KernelSpec;
  /** the working directory the kernel must have */
  cwd: string;
  /** the environment the kernel must have (before the kernelspec's env) */
  env: NodeJS.ProcessEnv;
  python?: string | undefined;
  /** how long the claimed kernel may take to answer (default 10 s) */
  readyTimeoutMs?: number;
}

/** The Python run silently in a claimed kernel; reads its arguments from a JSON literal. */
function setupCode(args: { cwd: string; env: Record<string, string>; launch: Record<string, string>; parent: number }): string {
  const source = [
    "import json as _json, os as _os, threading as _threading, time as _time",
    `_args = _json.loads(${JSON.stringify(JSON.stringify(args))})`,
    // What the kernel set itself at start (TERM, PAGER, MPLBACKEND…) it would set on a cold start too.
    "_own = {_k: _v for _k, _v in _os.environ.items() if _args['launch'].get(_k) != _v}",
    "_os.chdir(_args['cwd'])",
    "_os.environ.clear()",
    "_os.environ.update(_args['env'])",
    "_os.environ.update(_own)",
    "_parent = _args['parent']",
    "def _alive():",
    "    try:",
    "        with open('/proc/%d/stat' % _parent) as _f:",
    "            return _f.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')",
    "    except FileNotFoundError:",
    "        return False",
    "    except OSError:",
    "        try:",
    "            _os.kill(_parent, 0)",
    "            return True",
    "        except ProcessLookupError:",
    "            return False",
    "def _watch():",
    "    while _alive():",
    "        _time.sleep(1.0)",
    "    _time.sleep(5.0)",  // a kernel told to shut down is gone by then
    "    _os._exit(1)",
    "_threading.Thread(target=_watch, name='ParentPollerUnix', daemon=True).start()",
  ].join("\n");
  // exec in a private namespace: nothing is left in the user's globals.
  return `__import__('builtins').exec(__import__('base64').b64decode('${Buffer.from(source).toString("base64")}').decode(), {})`;
}

async function discard(ticket: PoolTicket, path: string, layout: PoolLayout): Promise<void> {
  if (isProcessAlive(ticket.pid, ticket.startTime)) signalGroup(ticket.pid, "SIGKILL");
  await rm(path, { force: true });
  await rm(ticket.socketDir, { recursive: true, force: true });
  await rm(layout.log(ticket.id), { force: true });
}

/**
 * Takes a ready kernel for `spec` from the pool, or returns undefined (none ready, pool missing,
 * or a start-sensitive variable such as PYTHONPATH differs from the pool's).
 */
export async function claimPooledKernel(options: ClaimKernelOptions): Promise<KernelHandle | undefined> {
  const layout = new PoolLayout(options.dir);
  const readyDir = layout.readyDir(options.spec.name);
  let entries: string[];
  try {
    entries = (await readdir(readyDir)).filter((entry) => entry.endsWith(".json")).sort();
  } catch {
    return undefined;
  }
  const wantedEnv = kernelEnvironment(options.spec, options.env, true);
  for (const entry of entries) {
    const readyPath = `${readyDir}/${entry}`;
    const peek = await readTicket(readyPath);
    if (!peek || startSensitiveDifferences(peek.launchEnv, wantedEnv).length > 0) {
      continue;
    }
    const claimedPath = layout.claimedTicket(peek.id);
    try {
      await rename(readyPath, claimedPath);
    } catch {
      continue; // another process was faster
    }
    const ticket: PoolTicket = { ...peek, claimedBy: { pid: process.pid, startTime: processStartTime(process.pid) } };
    await writeTicket(claimedPath, ticket);
    if (!isProcessAlive(ticket.pid, ticket.startTime)) {
      await discard(ticket, claimedPath, layout);
      continue;
    }
    const client = KernelClient.connect(ticket.connection);
    const watched = watchProcess(ticket.pid, ticket.startTime);
    const handle = new KernelHandle(options.spec, client, watched, [ticket.socketDir, claimedPath, layout.log(ticket.id)], "pool", []);
    try {
      await waitForReady(client, watched, options.readyTimeoutMs ?? 10_000, options.spec.name);
      const env = Object.fromEntries(Object.entries(wantedEnv).filter((pair): pair is [string, string] => pair[1] !== undefined));
      const code = setupCode({ cwd: options.cwd, env, launch: ticket.launchEnv, parent: process.pid });
      const { reply } = client.request("shell", "execute_request", { code, silent: true, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false });
      const answer = await handle.withDeath(reply, options.readyTimeoutMs ?? 10_000, "setup execution");
      if (answer.content["status"] !== "ok") {
        throw new Error(`setup execution failed: ${JSON.stringify(answer.content["evalue"] ?? answer.content["status"] ?? null)}`);
      }
      return handle;
    } catch {
      client.close();
      watched.dispose();
      await discard(ticket, claimedPath, layout);
    }
  }
  return undefined;
}
