/** The operations' context on a running platform (the server's): its store, registry, secrets and scheduler. */
import type { Platform } from "../wiring/index.js";
import type { OperationsContext } from "./context.js";

export function platformContext(platform: Platform): OperationsContext {
  return {
    store: platform.store,
    home: platform.config.home,
    pipelines: platform.registry,
    // The platform records every load's errors in the store (with the pipeline each file held), for every replica.
    loadErrors: () => platform.store.pipelines.listLoadErrors(),
    secrets: platform.secrets,
    volumes: platform.volumes,
    modelStores: platform.config.modelStores,
    scheduler: () => Promise.resolve(platform.scheduler),
    ...(platform.streams ? { triggers: platform.streams } : {}),
  };
}
