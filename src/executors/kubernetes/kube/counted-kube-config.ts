/**
 * A KubeConfig that counts every request of the generated API clients and reuses one keep-alive
 * connection pool per cluster. The client library makes a new HTTPS agent for each request, so
 * without this each create or delete would open a new TLS connection. Watches and log streams
 * (which hold their connection) keep agents of their own and are counted where they start.
 */
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";
import { Agent as HttpsAgent } from "node:https";
import type { RequestCounter } from "./request-counter.js";

/** KubeConfig with request counting and a shared keep-alive agent. */
export class CountedKubeConfig extends KubeConfig {
  readonly #counter: RequestCounter | undefined;
  #agent: HttpsAgent | undefined;

  constructor(counter?: RequestCounter) {
    super();
    this.#counter = counter;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    this.#counter?.countHttp(context.getHttpMethod(), context.getUrl());
    const agent = context.getAgent();
    if (agent instanceof HttpsAgent) {
      // The TLS settings come from the kubeconfig and are the same for every request.
      this.#agent ??= new HttpsAgent({ ...(agent.options), keepAlive: true, maxSockets: 64 });
      context.setAgent(this.#agent);
    }
  }

  /** Closes pooled connections. */
  destroy(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }
}
