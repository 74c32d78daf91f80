/**
 * The sandbox lifecycle service: create, start, stop and delete sandboxes under the users, teams and
 * roles Capstan has, within the team's quotas, through the profile's backend. Every state change goes
 * through `moveSandbox`; sandboxes that were running when Capstan stopped are adopted when it opens.
 * The proxy asks it where a sandbox answers (`target`) and tells it of the owner's traffic.
 */
import { randomBytes } from "node:crypto";
import type { Principal } from "../auth/index.js";
import { systemClock, type Clock } from "../clock/index.js";
import type { Store, StoredSandbox } from "../store/index.js";
import type { SandboxBackend, SandboxRuntime, SandboxSshEndpoint } from "./backend.js";
import { SandboxConflictError, SandboxForbiddenError, SandboxInputError, SandboxNotFoundError, SandboxQuotaError, SandboxStartError } from "./errors.js";
import { ACTIVE_STATES, DELETABLE_STATES, moveSandbox } from "./lifecycle.js";
import { checkSandboxName, newSandboxId } from "./names.js";
import { quotaOf, type SandboxProfile, type SandboxSettings } from "./profiles.js";
import { sandboxView, type SandboxView } from "./sandbox-view.js";

export interface SandboxServiceOptions {
  store: Store;
  settings: SandboxSettings;
  backends: Partial<Record<"local" | "kubernetes", SandboxBackend>>;
  clock?: Clock;
  /** GPUs of this machine, for profiles of the local backend that ask for some. */
  localGpus?: number;
  /** Owner traffic is written to the store at most this often per sandbox (default 5 s). */
  activityWriteMs?: number;
}

export interface CreateSandboxInput {
  name: unknown;
  team?: string | undefined;
  profile?: string | undefined;
}

/** Where the proxy sends a running sandbox's traffic. */
export interface SandboxTarget {
  id: string;
  owner: string;
  upstream: string;
  token: string;
}

export class SandboxService {
  readonly settings: SandboxSettings;
  readonly #store: Store;
  readonly #backends: Partial<Record<"local" | "kubernetes", SandboxBackend>>;
  readonly #clock: Clock;
  readonly #localGpus: number;
  readonly #activityWriteMs: number;
  readonly #launches = new Map<string, { abort: AbortController; done: Promise<void> }>();
  readonly #targets = new Map<string, SandboxTarget>();
  readonly #activityWritten = new Map<string, number>();

  constructor(options: SandboxServiceOptions) {
    this.#store = options.store;
    this.settings = options.settings;
    this.#backends = options.backends;
    this.#clock = options.clock ?? systemClock;
    this.#localGpus = options.localGpus ?? 0;
    this.#activityWriteMs = options.activityWriteMs ?? 5000;
    for (const backend of Object.values(this.#backends)) backend.onExit((exit) => void this.#crashed(exit.id, exit.reason));
  }

  /** Adopts the sandboxes the store has as starting, running or stopping (after a restart of Capstan). */
  async adopt(): Promise<{ adopted: string[]; lost: string[] }> {
    const adopted: string[] = [];
    const lost: string[] = [];
    for (const row of await this.#store.sandboxes.list({ states: ACTIVE_STATES })) {
      const backend = this.#backends[row.backend as "local" | "kubernetes"];
      const runtime = parseRuntime(row.runtime);
      const now = this.#clock.now();
      if (!backend) {
        await moveSandbox(this.#store, row.id, [row.state], "failed", { reason: `lost: no ${row.backend} backend is configured`, runtime: null }, now);
        lost.push(row.id);
        continue;
      }
      if (row.state !== "stopping" && runtime && (await backend.adopt(row.id, runtime))) {
        if (row.state === "starting") await moveSandbox(this.#store, row.id, ["starting"], "running", { startedAt: now, lastActivity: now }, now);
        adopted.push(row.id);
        continue;
      }
      await backend.stop(row.id, runtime);
      if (row.state === "stopping") await moveSandbox(this.#store, row.id, ["stopping"], "stopped", { runtime: null }, now);
      else {
        await moveSandbox(this.#store, row.id, [row.state], "failed", { reason: "crash: it ended while Capstan was not running", runtime: null }, now);
        lost.push(row.id);
      }
    }
    return { adopted, lost };
  }

  /** Creates a stopped sandbox for the principal in a team they edit in. */
  async create(principal: Principal, input: CreateSandboxInput): Promise<SandboxView> {
    const name = checkSandboxName(input.name);
    const team = this.#teamFor(principal, input.team);
    principal.require(team, "editor", "create sandboxes");
    const profile = this.#profile(input.profile ?? this.settings.defaultProfile);
    const now = this.#clock.now();
    const row: StoredSandbox = {
      id: newSandboxId(),
      owner: principal.username,
      team,
      name,
      profile: profile.name,
      backend: profile.backend,
      state: "stopped",
      reason: null,
      gpus: 0,
      runtime: null,
      upstreamToken: newUpstreamToken(),
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      lastActivity: now,
    };
    await this.#store.transaction(async (tx) => {
      if (await tx.sandboxes.byOwnerName(principal.username, name)) throw new SandboxConflictError(`${principal.username} already has a sandbox named ${name}`, "name");
      const quota = quotaOf(this.settings, team);
      const usage = await tx.sandboxes.teamUsage(team);
      if (usage.sandboxes + 1 > quota.sandboxes) {
        throw new SandboxQuotaError("quota.sandboxes", `team ${team} has ${usage.sandboxes} of its ${quota.sandboxes} sandboxes; delete one or ask an admin to raise sandboxes.quotas.${team}.sandboxes`);
      }
      await tx.sandboxes.insert(row);
    });
    return sandboxView(row, this.settings);
  }

  /** Sandboxes the principal may see: those of their teams (all for admins), optionally one team's or their own. */
  async list(principal: Principal, filter: { team?: string; mine?: boolean } = {}): Promise<SandboxView[]> {
    const visible = principal.visibleTeams();
    let teams = visible === undefined ? undefined : [...visible];
    if (filter.team !== undefined) teams = teams === undefined || teams.includes(filter.team) ? [filter.team] : [];
    const rows = await this.#store.sandboxes.list({ ...(teams ? { teams } : {}), ...(filter.mine ? { owner: principal.username } : {}) });
    return rows.map((row) => sandboxView(row, this.settings));
  }

  async get(principal: Principal, id: string): Promise<SandboxView> {
    return sandboxView(await this.#visible(principal, id), this.settings);
  }

  /**
   * Starts a stopped or failed sandbox. With `wait` (the default) it resolves once the sandbox runs
   * or has failed (the view says which); without, once it is starting.
   */
  async start(principal: Principal, id: string, options: { wait?: boolean } = {}): Promise<SandboxView> {
    const row = await this.#owned(principal, id, "start");
    if (row.state === "starting" || row.state === "running") {
      if (options.wait !== false) await this.#launches.get(id)?.done;
      return this.#view(id);
    }
    const profile = this.#profile(row.profile);
    const backend = this.#backendFor(profile);
    const token = newUpstreamToken();
    const moved = await this.#store.transaction(async (tx) => {
      const quota = quotaOf(this.settings, row.team);
      const usage = await tx.sandboxes.teamUsage(row.team);
      if (profile.gpu > 0 && usage.gpus + profile.gpu > quota.gpus) {
        throw new SandboxQuotaError("quota.gpus", `team ${row.team} uses ${usage.gpus} of its ${quota.gpus} GPUs and ${row.name} asks for ${profile.gpu}; stop a GPU sandbox or ask an admin to raise sandboxes.quotas.${row.team}.gpus`);
      }
      return moveSandbox(tx, id, ["stopped", "failed"], "starting", { gpus: profile.gpu, reason: null, runtime: null, upstreamToken: token }, this.#clock.now());
    });
    if (!moved) throw new SandboxConflictError(`${row.name} is ${(await this.#store.sandboxes.get(id))?.state ?? "gone"}; it can start once it is stopped`);
    const abort = new AbortController();
    const done = this.#launch(row, profile, backend, token, abort.signal);
    this.#launches.set(id, { abort, done });
    void done.finally(() => this.#launches.delete(id));
    if (options.wait !== false) await done;
    return this.#view(id);
  }

  /** Stops a sandbox (kernels and terminals too); its home stays. */
  async stop(principal: Principal, id: string): Promise<SandboxView> {
    await this.#owned(principal, id, "stop");
    await this.#stop(id, null);
    return this.#view(id);
  }

  /** Deletes a stopped sandbox and its home; `confirm` must be the sandbox's name. */
  async delete(principal: Principal, id: string, options: { confirm?: string | undefined }): Promise<void> {
    const row = await this.#owned(principal, id, "delete");
    if (options.confirm !== row.name) {
      throw new SandboxInputError("confirm", `deleting ${row.name} removes its home and every file in it for good; confirm with the sandbox's name (confirm: ${JSON.stringify(row.name)})`);
    }
    if (!DELETABLE_STATES.includes(row.state)) throw new SandboxConflictError(`${row.name} is ${row.state}; stop it before deleting it`, "state");
    if (!(await this.#store.sandboxes.delete(id, DELETABLE_STATES))) throw new SandboxConflictError(`${row.name} changed state while it was being deleted; try again`, "state");
    this.#targets.delete(id);
    const backend = this.#backends[row.backend as "local" | "kubernetes"];
    await backend?.removeHome(id);
  }

  /** Where a running sandbox answers, for the proxy; undefined when it does not run. */
  async target(id: string): Promise<SandboxTarget | undefined> {
    const cached = this.#targets.get(id);
    if (cached) return cached;
    const row = await this.#store.sandboxes.get(id);
    const runtime = row?.state === "running" ? parseRuntime(row.runtime) : null;
    if (!row || !runtime) return undefined;
    const target = { id, owner: row.owner, upstream: runtime.upstream, token: row.upstreamToken };
    this.#targets.set(id, target);
    return target;
  }

  /**
   * Where the principal's own running sandbox's sshd answers, for the SSH tunnel. A sandbox's shell
   * is its owner's alone: for anyone else (admins too) the sandbox is not found.
   */
  async sshEndpoint(principal: Principal, id: string): Promise<SandboxSshEndpoint & { name: string }> {
    const row = await this.#store.sandboxes.get(id);
    if (!row || row.owner !== principal.username || !principal.canRead(row.team)) throw new SandboxNotFoundError(`no sandbox ${id} of yours`);
    if (row.state !== "running") throw new SandboxConflictError(`${row.name} is ${row.state}; start it before connecting over SSH`, "state");
    const runtime = parseRuntime(row.runtime);
    const ssh = runtime?.ssh;
    if (!ssh || typeof ssh.host !== "string" || typeof ssh.port !== "number" || typeof ssh.user !== "string") {
      throw new SandboxConflictError(`${row.name} has no sshd: ${runtime?.sshUnavailable ?? "it was started without one; stop and start it again"}`, "ssh");
    }
    return { name: row.name, host: ssh.host, port: ssh.port, user: ssh.user, ...(typeof ssh.hostKey === "string" ? { hostKey: ssh.hostKey } : {}) };
  }

  /** Records the owner's authenticated traffic (written at most every `activityWriteMs`). */
  async recordActivity(id: string): Promise<void> {
    const now = this.#clock.now();
    if (now - (this.#activityWritten.get(id) ?? 0) < this.#activityWriteMs) return;
    this.#activityWritten.set(id, now);
    await this.#store.sandboxes.touch(id, now);
  }

  /** Stops a sandbox for idle culling (no principal: the platform does it). */
  async stopIdle(id: string): Promise<void> {
    await this.#stop(id, null);
  }

  /** Running sandboxes with their settings, for the idle culler. */
  async running(): Promise<{ row: StoredSandbox; profile: SandboxProfile | undefined; target: SandboxTarget | undefined }[]> {
    const rows = await this.#store.sandboxes.list({ states: ["running"] });
    return Promise.all(rows.map(async (row) => ({ row, profile: this.settings.profiles.get(row.profile), target: await this.target(row.id) })));
  }

  /** Records kernel activity seen by the culler. */
  async recordKernelActivity(id: string, at: number): Promise<void> {
    await this.#store.sandboxes.touch(id, at);
  }

  /** Waits for launches in flight and stops watching; running sandboxes keep running and are adopted next time. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#launches.values()].map((l) => l.done));
    await Promise.all(Object.values(this.#backends).map((b) => b.close()));
  }

  async #launch(row: StoredSandbox, profile: SandboxProfile, backend: SandboxBackend, token: string, signal: AbortSignal): Promise<void> {
    let runtime: SandboxRuntime;
    try {
      runtime = await backend.start({ id: row.id, owner: row.owner, team: row.team, name: row.name, profile, token }, signal);
    } catch (error) {
      const reason = error instanceof SandboxStartError ? `${error.reason}: ${error.message}` : `crash: ${(error as Error).message}`;
      await moveSandbox(this.#store, row.id, ["starting"], "failed", { reason, runtime: null }, this.#clock.now());
      return;
    }
    const now = this.#clock.now();
    if (!(await moveSandbox(this.#store, row.id, ["starting"], "running", { runtime: JSON.stringify(runtime), startedAt: now, lastActivity: now }, now))) {
      // Stopped while it started: the stop is waiting for this launch to end; leave nothing running.
      await backend.stop(row.id, runtime);
    }
  }

  async #stop(id: string, reason: string | null): Promise<void> {
    const launch = this.#launches.get(id);
    if (launch) {
      launch.abort.abort();
      await launch.done;
    }
    const row = await this.#store.sandboxes.get(id);
    if (!row) throw new SandboxNotFoundError(`no sandbox ${id}`);
    this.#targets.delete(id);
    if (row.state === "stopped") return;
    const from = row.state;
    if (from !== "stopping" && !(await moveSandbox(this.#store, id, [from], "stopping", {}, this.#clock.now()))) return this.#stop(id, reason);
    const backend = this.#backends[row.backend as "local" | "kubernetes"];
    await backend?.stop(id, parseRuntime(row.runtime));
    await moveSandbox(this.#store, id, ["stopping"], "stopped", { runtime: null, reason }, this.#clock.now());
  }

  async #crashed(id: string, reason: string): Promise<void> {
    this.#targets.delete(id);
    await moveSandbox(this.#store, id, ["running"], "failed", { reason: `crash: ${reason}`, runtime: null }, this.#clock.now());
  }

  #teamFor(principal: Principal, team: string | undefined): string {
    if (team !== undefined) {
      if (!principal.canRead(team)) throw new SandboxInputError("team", `${principal.username} is not a member of team ${team}`);
      return team;
    }
    const teams = [...principal.roles.keys()];
    if (teams.length === 1) return teams[0]!;
    throw new SandboxInputError("team", teams.length === 0 ? `${principal.username} belongs to no team; an admin adds them to one first` : `${principal.username} is in several teams (${teams.join(", ")}); say which one with team`);
  }

  #profile(name: string): SandboxProfile {
    const profile = this.settings.profiles.get(name);
    if (!profile) throw new SandboxInputError("profile", `unknown profile ${JSON.stringify(name)}; profiles: ${[...this.settings.profiles.keys()].join(", ")}`);
    this.#backendFor(profile);
    if (profile.backend === "local" && profile.gpu > this.#localGpus) {
      throw new SandboxInputError("profile", `profile ${profile.name} asks for ${profile.gpu} GPU(s) but this machine has ${this.#localGpus === 0 ? "none" : this.#localGpus}; choose a profile without gpu`);
    }
    return profile;
  }

  #backendFor(profile: SandboxProfile): SandboxBackend {
    const backend = this.#backends[profile.backend];
    if (!backend) throw new SandboxInputError("profile", `profile ${profile.name} runs on the ${profile.backend} backend, which this server does not have`);
    return backend;
  }

  async #visible(principal: Principal, id: string): Promise<StoredSandbox> {
    const row = await this.#store.sandboxes.get(id);
    if (!row || !principal.canRead(row.team)) throw new SandboxNotFoundError(`no sandbox ${id}`);
    return row;
  }

  /** The sandbox, if the principal owns it (admins may stop and delete any). */
  async #owned(principal: Principal, id: string, action: string): Promise<StoredSandbox> {
    const row = await this.#visible(principal, id);
    if (row.owner !== principal.username && !(principal.isAdmin && action !== "start")) {
      throw new SandboxForbiddenError(`${row.name} belongs to ${row.owner}; only its owner can ${action} it`);
    }
    return row;
  }

  async #view(id: string): Promise<SandboxView> {
    const row = await this.#store.sandboxes.get(id);
    if (!row) throw new SandboxNotFoundError(`no sandbox ${id}`);
    return sandboxView(row, this.settings);
  }
}

function newUpstreamToken(): string {
  return randomBytes(32).toString("hex");
}

function parseRuntime(text: string | null): SandboxRuntime | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as SandboxRuntime;
    return typeof value.upstream === "string" ? value : null;
  } catch {
    return null;
  }
}
