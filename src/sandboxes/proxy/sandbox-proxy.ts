/**
 * The sandbox proxy: HTTP and WebSocket from a browser on a sandbox's origin to its JupyterLab, with
 * Capstan's auth. Opening a sandbox hands a one-time code from the platform origin to the sandbox
 * origin (`/_capstan/open`), which sets a host-only cookie. Every request and every WebSocket
 * upgrade needs that cookie, for the owner only (others get 403, no cookie 401), from the sandbox's
 * own origin; the owner's traffic counts as activity, nothing else does. Proxying itself is
 * http-proxy-3's.
 */
import { Agent, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createProxyServer, type ProxyServer } from "http-proxy-3";
import type { AuthService, Principal } from "../../auth/index.js";
import { SandboxConflictError, SandboxForbiddenError } from "../errors.js";
import type { SandboxService, SandboxTarget } from "../sandbox-service.js";
import { parseCookies, rewriteForUpstream, SANDBOX_COOKIE } from "./forwarded-headers.js";
import { SandboxOrigins } from "./sandbox-origin.js";
import { SandboxSessions } from "./sandbox-sessions.js";

export interface SandboxProxyOptions {
  service: SandboxService;
  auth: AuthService;
  /** The port of the server the sandbox origins point at (for {port}). */
  port: number;
  /** How long a platform credential's validity is trusted before it is checked again (default 5 s). */
  credentialCheckMs?: number;
}

const OPEN_PATH = "/_capstan/open";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class SandboxProxy {
  readonly origins: SandboxOrigins;
  readonly sessions = new SandboxSessions();
  readonly #service: SandboxService;
  readonly #auth: AuthService;
  readonly #proxy: ProxyServer;
  readonly #credentialCheckMs: number;
  readonly #checked = new Map<string, number>();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(options: SandboxProxyOptions) {
    this.#service = options.service;
    this.#auth = options.auth;
    this.#credentialCheckMs = options.credentialCheckMs ?? 5000;
    this.origins = new SandboxOrigins(options.service.settings.origin, options.port);
    // Connections to JupyterLab are kept open between requests (a new TCP connection per request cost more than the proxying itself).
    this.#proxy = createProxyServer({ changeOrigin: true, ws: true, xfwd: false, agent: this.#agent });
    this.#proxy.on("error", (error, _req, target) => {
      if (target && "writeHead" in target) {
        const res = target;
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
        res.end(`the sandbox did not answer: ${error.message}`);
      } else (target as Duplex | undefined)?.destroy();
    });
  }

  /** True when the request is for a sandbox's origin (the server hands it here instead of to its routes). */
  handles(req: IncomingMessage): boolean {
    return this.origins.sandboxOf(req.headers.host) !== undefined;
  }

  /**
   * The URL that opens sandbox `id` for `principal` (who must own it and have it running): the
   * sandbox origin's open path with a one-time code. `path` is where JupyterLab opens (default /lab).
   */
  async openUrl(principal: Principal, id: string, path = "/lab"): Promise<string> {
    const sandbox = await this.#service.get(principal, id);
    if (sandbox.owner !== principal.username) throw new SandboxForbiddenError(`${sandbox.name} belongs to ${sandbox.owner}; only its owner can open it`);
    if (sandbox.state !== "running") throw new SandboxConflictError(`${sandbox.name} is ${sandbox.state}; start it before opening it`, "state");
    const safePath = path.startsWith("/") && !path.startsWith("//") && !path.includes("\\") ? path : "/lab";
    const code = this.sessions.issueCode(principal, id, safePath);
    return `${this.origins.originOf(id)}${OPEN_PATH}?code=${encodeURIComponent(code)}`;
  }

  /** Serves an HTTP request for a sandbox origin. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    void this.#web(req, res).catch((error: unknown) => {
      const status = error instanceof Refusal ? error.status : 502;
      if (!res.headersSent) res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end(`${(error as Error).message}\n`);
    });
  }

  /** Serves a WebSocket upgrade for a sandbox origin: authenticated exactly like HTTP. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    void this.#ws(req, socket, head).catch((error: unknown) => {
      const status = error instanceof Refusal ? error.status : 502;
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Bad Gateway"}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
  }

  close(): void {
    this.#proxy.close();
    this.#agent.destroy();
  }

  async #web(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = this.origins.sandboxOf(req.headers.host)!;
    const url = new URL(req.url ?? "/", "http://sandbox");
    if (url.pathname === OPEN_PATH) return this.#open(id, url, res);
    const target = await this.#authorize(id, req);
    rewriteForUpstream(req.headers, { owner: target.owner, token: target.token, upstreamOrigin: new URL(target.upstream).origin });
    this.#proxy.web(req, res, { target: target.upstream });
  }

  async #ws(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const id = this.origins.sandboxOf(req.headers.host)!;
    const target = await this.#authorize(id, req, true);
    rewriteForUpstream(req.headers, { owner: target.owner, token: target.token, upstreamOrigin: new URL(target.upstream).origin });
    this.#proxy.ws(req, socket, head, { target: target.upstream });
  }

  /** Exchanges the one-time code for the sandbox cookie and sends the browser on to JupyterLab. */
  #open(id: string, url: URL, res: ServerResponse): void {
    const redeemed = this.sessions.redeem(url.searchParams.get("code") ?? "", id);
    if (!redeemed) throw new Refusal(401, "this link to the sandbox is used, expired or for another sandbox; open the sandbox again from Capstan");
    const cookie = [
      `${this.#cookieName()}=${redeemed.secret}`,
      "Path=/",
      "HttpOnly",
      "SameSite=Lax",
      ...(this.origins.secure ? ["Secure"] : []),
      `Max-Age=${Math.max(0, Math.floor((redeemed.session.expiresAt - Date.now()) / 1000))}`,
    ].join("; ");
    res.writeHead(303, { location: redeemed.path, "set-cookie": cookie, "cache-control": "no-store", "referrer-policy": "no-referrer" });
    res.end();
  }

  /** The running sandbox the request may reach, or a Refusal (401 no valid cookie, 403 not the owner or another origin). */
  async #authorize(id: string, req: IncomingMessage, upgrade = false): Promise<SandboxTarget> {
    const secret = parseCookies(req.headers.cookie).get(this.#cookieName());
    const session = secret ? this.sessions.session(secret, id) : undefined;
    if (!secret || !session) throw new Refusal(401, "sign in to this sandbox by opening it from Capstan");
    if (!(await this.#credentialLive(secret, session.principal))) {
      this.sessions.end(secret);
      throw new Refusal(401, "the Capstan session this sandbox was opened with has ended; sign in and open the sandbox again");
    }
    const origin = req.headers.origin;
    if ((upgrade || !SAFE_METHODS.has(req.method ?? "GET")) && origin !== undefined && origin !== this.origins.originOf(id)) {
      throw new Refusal(403, `requests from ${origin} may not use this sandbox`);
    }
    const target = await this.#service.target(id);
    if (target && target.owner !== session.principal.username) throw new Refusal(403, "only the sandbox's owner may use it");
    if (!target) throw new Refusal(503, "the sandbox is not running; start it in Capstan");
    await this.#service.recordActivity(id);
    return target;
  }

  /** Whether the platform credential behind a sandbox session still holds (checked every few seconds). */
  async #credentialLive(secret: string, principal: Principal): Promise<boolean> {
    const now = Date.now();
    if ((this.#checked.get(secret) ?? 0) > now) return true;
    if (!(await this.#auth.stillValid(principal))) return false;
    this.#checked.set(secret, now + this.#credentialCheckMs);
    return true;
  }

  #cookieName(): string {
    return this.origins.secure ? `__Host-${SANDBOX_COOKIE}` : SANDBOX_COOKIE;
  }
}
