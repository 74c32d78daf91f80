/**
 * The sandbox service wired from the configuration: the `sandboxes:` section resolved into profiles
 * and quotas, the local backend under `$CAPSTAN_HOME/sandboxes` with JupyterLab from the venv, the
 * Kubernetes backend when a profile asks for it, the sandboxes the store has as running adopted, and
 * the idle culler (started by `capstan up`).
 */
import { join } from "node:path";
import type { Logger } from "pino";
import type { Clock } from "../clock/index.js";
import type { CapstanConfig } from "../config/index.js";
import { IdleCuller, LocalSandboxBackend, resolveSandboxSettings, SandboxService, type SandboxBackend } from "../sandboxes/index.js";
import type { Store } from "../store/index.js";

export interface OpenSandboxesOptions {
  config: CapstanConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
}

/** Builds the sandbox service and adopts what was running when Capstan last stopped. */
export async function openSandboxes(options: OpenSandboxesOptions): Promise<{ sandboxes: SandboxService; idleCuller: IdleCuller }> {
  const { config, store, clock, logger } = options;
  const settings = resolveSandboxSettings(config.sandboxes);
  const local = new LocalSandboxBackend({ root: join(config.home, "sandboxes"), python: config.sandboxes?.python ?? config.python });
  const backends: Partial<Record<"local" | "kubernetes", SandboxBackend>> = { local };
  if ([...settings.profiles.values()].some((p) => p.backend === "kubernetes")) {
    // Loaded only when a profile asks for it: Kubernetes' client is large.
    const { createKubernetesSandboxBackend } = await import("../sandboxes/kubernetes/index.js");
    backends.kubernetes = createKubernetesSandboxBackend(config, settings);
  }
  const sandboxes = new SandboxService({ store, settings, clock, backends, localGpus: config.local.gpus?.length ?? 0 });
  const { adopted, lost } = await sandboxes.adopt();
  if (adopted.length > 0 || lost.length > 0) logger.info({ adopted, lost }, `sandboxes: ${adopted.length} adopted, ${lost.length} ended while Capstan was not running`);
  const idleCuller = new IdleCuller(sandboxes, { clock, onCulled: (id, idleMs) => logger.info({ sandbox: id, idleMs }, "sandbox stopped after its idle timeout; its home is kept") });
  return { sandboxes, idleCuller };
}
