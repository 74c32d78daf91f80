/** The kafka_sensor executor wired to the store (a run's team and start) and the team's connections. */
import type { Logger } from "pino";
import type { Clock } from "../clock/index.js";
import { ConnectionService } from "../connections/index.js";
import type { SecretService } from "../secrets/index.js";
import { KafkaSensorExecutor } from "../sensors/index.js";
import type { Store } from "../store/index.js";

export function openSensors(parts: { store: Store; secrets: SecretService; clock: Clock; logger: Logger }): KafkaSensorExecutor {
  const { store, secrets, clock, logger } = parts;
  const connections = new ConnectionService(store, secrets);
  const log = logger.child({ component: "sensors" });
  return new KafkaSensorExecutor({
    runContext: async (runId) => {
      const run = await store.runs.get(runId);
      if (!run) throw new Error(`run ${runId} does not exist`);
      const pipeline = await store.pipelines.get(run.pipelineId);
      if (!pipeline) throw new Error(`pipeline ${run.pipelineId} does not exist`);
      return { team: pipeline.team, runStartedAt: run.startedAt };
    },
    resolveConnection: (team, name) => connections.resolve(team, name),
    now: () => clock.now(),
    log: { info: (fields, message) => log.info(fields, message), warn: (fields, message) => log.warn(fields, message) },
  });
}
