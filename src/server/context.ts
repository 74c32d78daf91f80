/** What route modules get: the platform's services and operations, accounts, access checks and the live event hub. Routes never reach executors or build pods. */
import type { AuthService } from "../auth/index.js";
import type { OperationsContext } from "../operations/index.js";
import type { Platform } from "../wiring/index.js";
import type { Access } from "./access.js";
import type { EventHub } from "./event-hub.js";
import type { SandboxHosts } from "./sandbox-hosts.js";

/** What `buildServer` needs: the platform; accounts default to an AuthService on the platform's store. */
export interface ServerContext {
  platform: Platform;
  auth?: AuthService;
}

export interface ServerOptions {
  /** Folder of the built web UI (web/dist); null serves the API only. Default: the installation's web/dist when it exists. */
  webRoot?: string | null;
  /**
   * Whose X-Forwarded-For and X-Forwarded-Proto to believe (client addresses for sign-in limits, HTTPS
   * detection): the proxies' addresses or CIDR ranges (or loopback, linklocal, uniquelocal); the client
   * address is the nearest one not in the list. true believes any peer (only for a server that nothing
   * but the proxy can reach); false or empty believes none.
   */
  trustProxy?: boolean | readonly string[];
}

/** The services route modules share. */
export interface RouteContext {
  platform: Platform;
  /** The operations' view of the platform: routes decide who may, the operations do it. */
  operations: OperationsContext;
  auth: AuthService;
  access: Access;
  hub: EventHub;
  /** Live streams that are open; the server ends them when it closes. */
  streams: Set<{ close(): void }>;
  /** Masks every secret value in text the API returns (logs, notebooks). */
  redact: (text: string) => Promise<string>;
  /** The sandbox origins this server serves (their proxy exists once it listens). */
  sandboxHosts: SandboxHosts;
}
