/**
 * Sandbox origins on the API's own HTTP server: requests and WebSocket upgrades whose Host is a
 * sandbox's origin ("http://{id}.localhost:{port}") go to the sandbox proxy and never reach the
 * platform's routes; upgrades of the SSH tunnel's path go to SandboxSshUpgrades; everything else
 * goes to Fastify. The proxy is made once the server listens, since a sandbox's origin holds the
 * port it listens on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AuthService } from "../auth/index.js";
import { SandboxProxy, type SandboxService } from "../sandboxes/index.js";
import { SandboxSshUpgrades } from "./routes/sandbox-ssh.js";

export class SandboxHosts {
  #proxy: SandboxProxy | undefined;
  /** WebSocket upgrades of GET /api/sandboxes/{id}/ssh: the SSH tunnel. */
  readonly ssh: SandboxSshUpgrades;

  constructor(
    readonly service: SandboxService,
    readonly auth: AuthService,
  ) {
    this.ssh = new SandboxSshUpgrades(service, auth);
  }

  /** The proxy, once the server listens (undefined before). */
  get proxy(): SandboxProxy | undefined {
    return this.#proxy;
  }

  /** Fastify's `serverFactory`: a plain HTTP server that hands sandbox hosts to the proxy. */
  serverFactory = (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createServer((req, res) => {
      const proxy = this.#proxy;
      if (proxy?.handles(req)) proxy.handleRequest(req, res);
      else handler(req, res);
    });
    server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
      const proxy = this.#proxy;
      if (proxy?.handles(req)) proxy.handleUpgrade(req, socket, head);
      else if (this.ssh.handles(req)) this.ssh.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
    server.on("listening", () => {
      this.#proxy?.close();
      this.#proxy = new SandboxProxy({ service: this.service, auth: this.auth, port: (server.address() as AddressInfo).port });
    });
    server.on("close", () => {
      this.#proxy?.close();
      this.ssh.close();
    });
    return server;
  };
}
