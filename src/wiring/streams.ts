/** The Kafka triggers of a platform: each batch becomes a run made by the scheduler's trigger command with the batch's key. */
import type { Logger } from "pino";
import type { PlatformMetrics } from "../metrics/index.js";
import type { PipelineRegistry } from "../pipelines/index.js";
import { runArtifactsDir, type Scheduler } from "../scheduler/index.js";
import type { SecretService } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import { KafkaTriggers } from "../streams/index.js";

export function openStreams(parts: { store: Store; secrets: SecretService; registry: PipelineRegistry; scheduler: Scheduler; metrics: PlatformMetrics; logger: Logger; home: string }): KafkaTriggers {
  const { store, secrets, registry, scheduler, metrics, logger, home } = parts;
  return new KafkaTriggers({
    store,
    secrets,
    pipelines: registry,
    registry: metrics.registry,
    log: logger.child({ component: "streams" }),
    createRun: async (pipelineId, runKey, params, runId) => {
      await scheduler.trigger(pipelineId, { trigger: "kafka", runKey, triggerParams: params, createdBy: null, ...(runId !== undefined ? { runId } : {}) });
    },
    artifactsDir: (runId) => runArtifactsDir(home, runId),
  });
}
