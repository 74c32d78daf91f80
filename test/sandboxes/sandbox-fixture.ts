/**
 * A sandbox test world: a temporary Capstan home with a real SQLite store, real users and teams
 * (AuthService), and a SandboxService on the local backend with JupyterLab from the project's venv.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AuthService, type Principal, type TeamRole } from "../../src/auth/index.js";
import type { Clock } from "../../src/clock/index.js";
import type { SandboxesConfigFile } from "../../src/config/index.js";
import { LocalSandboxBackend, resolveSandboxSettings, SandboxService, type SandboxBackend, type SandboxServiceOptions } from "../../src/sandboxes/index.js";
import { Store } from "../../src/store/index.js";

/** The venv's Python with JupyterLab (scripts/setup-python.sh installs it). */
export function sandboxPython(): string {
  const python = process.env.CAPSTAN_PYTHON ?? resolve(".venv/bin/python");
  if (!existsSync(python)) throw new Error(`no Python at ${python}: run scripts/setup-python.sh, which installs JupyterLab into the project's venv`);
  return python;
}

export interface SandboxWorld {
  dir: string;
  store: Store;
  auth: AuthService;
  backend: LocalSandboxBackend;
  service: SandboxService;
  /** A principal for a user made (once) with roles in teams. */
  user(username: string, roles?: Record<string, TeamRole>, admin?: boolean): Promise<Principal>;
  /** Opens a second service on the same store and home, as a restarted Capstan would. */
  reopen(): Promise<SandboxService>;
  close(): Promise<void>;
}

export interface SandboxWorldOptions {
  config?: SandboxesConfigFile;
  clock?: Clock;
  localGpus?: number;
  /** A different backend for the service (the contract suite's second backend). */
  backend?: (root: string) => SandboxBackend;
  service?: Partial<SandboxServiceOptions>;
}

export async function openSandboxWorld(options: SandboxWorldOptions = {}): Promise<SandboxWorld> {
  const dir = mkdtempSync(join(tmpdir(), "capstan-sandbox-"));
  const store = await Store.open({ url: join(dir, "capstan.db") });
  const auth = new AuthService(store, options.clock ? { clock: options.clock } : {});
  const root = join(dir, "sandboxes");
  const settings = resolveSandboxSettings(options.config);
  const services: SandboxService[] = [];
  const backends: LocalSandboxBackend[] = [];
  const open = (): { service: SandboxService; backend: LocalSandboxBackend } => {
    const backend = new LocalSandboxBackend({ root, python: sandboxPython(), stopGraceMs: 3000, adoptedCheckMs: 200 });
    backends.push(backend);
    const chosen = options.backend ? options.backend(root) : backend;
    const service = new SandboxService({
      store,
      settings,
      backends: { [chosen.kind]: chosen },
      ...(options.clock ? { clock: options.clock } : {}),
      localGpus: options.localGpus ?? 0,
      ...options.service,
    });
    services.push(service);
    return { service, backend };
  };
  const first = open();
  const made = new Set<string>();
  return {
    dir,
    store,
    auth,
    backend: first.backend,
    service: first.service,
    async user(username, roles = {}, admin = false) {
      if (!made.has(username)) {
        made.add(username);
        await auth.createUser({ username, admin });
        for (const [team, role] of Object.entries(roles)) {
          if (!(await store.teams.get(team))) await auth.createTeam(team, null);
          await auth.setMember(team, username, role);
        }
      }
      const token = await auth.createToken(username, "test", null);
      const principal = await auth.authenticateToken(token.token);
      if (!principal) throw new Error(`no principal for ${username}`);
      return principal;
    },
    async reopen() {
      const next = open();
      await next.service.adopt();
      return next.service;
    },
    async close() {
      // Stop whatever still runs, through the last service opened.
      const last = services.at(-1)!;
      for (const row of await store.sandboxes.list({ states: ["starting", "running", "stopping", "failed"] })) await last.stopIdle(row.id).catch(() => undefined);
      for (const service of services) await service.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
