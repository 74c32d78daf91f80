/**
 * SSH into a sandbox over the API's WebSocket: `GET /api/sandboxes/{id}/ssh` upgraded to a WebSocket
 * carries the bytes of an SSH connection to the sandbox's sshd (`capstan sandbox tunnel` is the
 * client, an SSH ProxyCommand). The upgrade itself is refused unless it carries an API token
 * (`Authorization: Bearer`; browsers cannot send one on a WebSocket, so no page of another site can
 * open a tunnel with a user's cookie) of the sandbox's owner: no token 401, anyone else 404, a
 * sandbox that does not run 409. The plain GET (the route in sandboxes.ts) says how to connect.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { AuthService, Principal } from "../../auth/index.js";
import { isCapstanError } from "../../errors/index.js";
import { connectSshd, isSandboxId, pipeSshTunnel, type SandboxService } from "../../sandboxes/index.js";
import { httpStatusOf } from "../error-status.js";

/** The path of the tunnel; the id is checked after authentication, so nothing is learnt without a token. */
const SSH_PATH = /^\/api\/sandboxes\/([^/?#]*)\/ssh(?:\?.*)?$/;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 502: "Bad Gateway", 503: "Service Unavailable" };

export interface SandboxSshUpgradesOptions {
  /** How often a tunnel's credential is checked again (default 30 s). */
  credentialCheckMs?: number;
}

export class SandboxSshUpgrades {
  readonly #service: SandboxService;
  readonly #auth: AuthService;
  readonly #credentialCheckMs: number;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
  readonly #open = new Set<WebSocket>();

  constructor(service: SandboxService, auth: AuthService, options: SandboxSshUpgradesOptions = {}) {
    this.#service = service;
    this.#auth = auth;
    this.#credentialCheckMs = options.credentialCheckMs ?? 30_000;
  }

  /** True for an upgrade of the SSH tunnel's path. */
  handles(req: IncomingMessage): boolean {
    return SSH_PATH.test(req.url ?? "");
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    void this.#upgrade(req, socket, head).catch((error: unknown) => refuse(socket, error));
  }

  /** Ends every open tunnel (the server is closing). */
  close(): void {
    for (const ws of this.#open) ws.terminate();
    this.#open.clear();
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (req.method !== "GET") throw new Refusal(405, "method_not_allowed", "the SSH tunnel is a GET upgraded to a WebSocket");
    const principal = await this.#principal(req);
    const id = SSH_PATH.exec(req.url ?? "")?.[1] ?? "";
    if (!isSandboxId(id)) throw new Refusal(400, "invalid_request", "params.id: a sandbox id is 's' and 16 letters a–z or digits 2–7");
    const endpoint = await this.#service.sshEndpoint(principal, id);
    let tcp;
    try {
      tcp = await connectSshd(endpoint);
    } catch (error) {
      throw new Refusal(502, "bad_gateway", (error as Error).message);
    }
    if (socket.destroyed) {
      tcp.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#open.add(ws);
      ws.once("close", () => this.#open.delete(ws));
      pipeSshTunnel(ws, tcp, {
        onActivity: () => void this.#service.recordActivity(id).catch(() => undefined),
        stillValid: () => this.#auth.stillValid(principal),
        credentialCheckMs: this.#credentialCheckMs,
      });
    });
  }

  /** The owner of the request's API token; a session cookie alone is not enough for a tunnel. */
  async #principal(req: IncomingMessage): Promise<Principal> {
    const authorization = req.headers.authorization;
    const token = authorization === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (!token) throw new Refusal(401, "unauthenticated", "the SSH tunnel needs an API token: Authorization: Bearer <token> (capstan login saves one)");
    const principal = await this.#auth.authenticateToken(token);
    if (!principal) throw new Refusal(401, "unauthenticated", "the API token is unknown, revoked or expired; create a new one under Account → API tokens or with `capstan login`");
    return principal;
  }
}

/** Answers a refused upgrade with a plain HTTP status and the API's error body, and closes the socket. */
function refuse(socket: Duplex, error: unknown): void {
  let status = 500;
  let code = "internal";
  let message = "the SSH tunnel failed";
  if (error instanceof Refusal) ({ status, code, message } = error);
  else if (isCapstanError(error)) {
    status = httpStatusOf(error.kind);
    code = error.code;
    message = error.message;
  }
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    [
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}`,
      "content-type: application/json; charset=utf-8",
      ...(status === 401 ? ['www-authenticate: Bearer realm="capstan"'] : []),
      "cache-control: no-store",
      "connection: close",
      `content-length: ${Buffer.byteLength(body)}`,
      "",
      body,
    ].join("\r\n"),
  );
}
