/**
 * Idle culling: a running sandbox with no authenticated traffic from its owner and no kernel
 * activity for its profile's idle timeout is stopped (home kept). Activity is what the proxy records
 * for the owner plus the kernels' own `last_activity` (a busy kernel is active now); unauthenticated
 * traffic never reaches the service, so it keeps nothing alive. Runs on the injected clock.
 */
import { systemClock, type Clock, type ClockTimer } from "../clock/index.js";
import { kernelActivity } from "./jupyter-api.js";
import type { SandboxService } from "./sandbox-service.js";

export interface IdleCullerOptions {
  clock?: Clock;
  /** How often running sandboxes are looked at (default 30 s). */
  intervalMs?: number;
  /** Reports a sandbox it stopped (for the log). */
  onCulled?: (id: string, idleMs: number) => void;
}

export class IdleCuller {
  readonly #service: SandboxService;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onCulled: ((id: string, idleMs: number) => void) | undefined;
  #timer: ClockTimer | undefined;
  #pass: Promise<string[]> | undefined;
  #closed = false;

  constructor(service: SandboxService, options: IdleCullerOptions = {}) {
    this.#service = service;
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = options.intervalMs ?? 30_000;
    this.#onCulled = options.onCulled;
  }

  start(): void {
    this.#arm();
  }

  /** One pass: stops the sandboxes idle past their timeout; returns their ids. */
  async cull(): Promise<string[]> {
    this.#pass ??= this.#cull().finally(() => (this.#pass = undefined));
    return this.#pass;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.clear();
    await this.#pass;
  }

  async #cull(): Promise<string[]> {
    const culled: string[] = [];
    for (const { row, profile, target } of await this.#service.running()) {
      if (!profile) continue;
      const now = this.#clock.now();
      let last = row.lastActivity;
      if (target) {
        const kernels = await kernelActivity(target.upstream, target.token, now);
        if (typeof kernels === "number" && kernels > last) {
          last = Math.min(kernels, now);
          await this.#service.recordKernelActivity(row.id, last);
        }
      }
      if (now - last >= profile.idleTimeoutMs) {
        await this.#service.stopIdle(row.id);
        culled.push(row.id);
        this.#onCulled?.(row.id, now - last);
      }
    }
    return culled;
  }

  #arm(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimer(this.#clock.now() + this.#intervalMs, () => {
      void this.cull()
        .catch(() => [])
        .finally(() => this.#arm());
    });
  }
}
