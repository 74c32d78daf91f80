/**
 * Sandbox origins: each sandbox is served from an origin of its own built from `sandboxes.origin`
 * ("http://{id}.localhost:{port}", "https://{id}.sbx.example.com"), so a sandbox's JavaScript never
 * shares an origin with the platform or with another sandbox. This reads a request's Host back into
 * a sandbox id.
 */
import { isSandboxId } from "../names.js";

export class SandboxOrigins {
  readonly #template: string;
  readonly #port: number;
  readonly #host: RegExp;

  constructor(template: string, port: number) {
    this.#template = template;
    this.#port = port;
    const host = template.replace(/^https?:\/\//, "").replaceAll("{port}", String(port));
    const pattern = host
      .split("{id}")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("([a-z0-9]+)");
    // A default port may be left out of the Host header.
    const optionalDefaultPort = /:(80|443)$/.test(host) ? pattern.replace(/:(80|443)$/, "(?::$1)?") : pattern;
    this.#host = new RegExp(`^${optionalDefaultPort}$`, "i");
  }

  /** The origin of sandbox `id` (scheme://host[:port]). */
  originOf(id: string): string {
    return this.#template.replaceAll("{id}", id).replaceAll("{port}", String(this.#port));
  }

  get secure(): boolean {
    return this.#template.startsWith("https://");
  }

  /** The sandbox id a Host header names, or undefined when it is no sandbox's host. */
  sandboxOf(host: string | undefined): string | undefined {
    if (!host) return undefined;
    const id = this.#host.exec(host)?.[1]?.toLowerCase();
    return id !== undefined && isSandboxId(id) ? id : undefined;
  }
}
