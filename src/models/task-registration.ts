/**
 * `register_model:` carried out by the platform: when a task that declares it succeeds, its output
 * names a .mar file or a model folder, which is checked (path inside the run's artifacts or the
 * pipeline's folder, a readable archive with a manifest), copied and content-hashed, and recorded as
 * a version of the pipeline team's model with the run's params and the metrics of `metrics_from`;
 * the alias, when given, moves to it. No token is involved: the scheduler calls this directly.
 */
import { join } from "node:path";
import type { ModelRegistrar, PreparedRegistration, TaskRegistrationInput } from "../scheduler/index.js";
import type { Repositories, Store } from "../store/index.js";
import type { ModelStorage } from "./model-storage.js";
import { numericOutputs } from "./model-metrics.js";
import { resolveTaskModelPath } from "./task-model-path.js";

export interface TaskModelRegistrarOptions {
  store: Store;
  /** The Capstan home: runs' artifacts folders live under it. */
  home: string;
  /** Where versions' files are written (the home, or the team's volume). */
  storage: ModelStorage;
}

const takenMessage = (name: string): string => `the model name ${JSON.stringify(name)} belongs to another team; choose another name in register_model.name`;

/** The scheduler's ModelRegistrar: the registry's rules for versions that tasks declare. */
export class TaskModelRegistrar implements ModelRegistrar {
  constructor(private readonly options: TaskModelRegistrarOptions) {}

  async prepare({ run, pipeline, task, outputs }: TaskRegistrationInput): Promise<PreparedRegistration> {
    const spec = task.registerModel;
    if (spec === undefined) return { ok: false, reason: "register_model: the task declares no registration" };
    const team = pipeline.spec.team;
    try {
      const existing = await this.options.store.models.get(spec.name);
      if (existing && existing.team !== team) throw new Error(takenMessage(spec.name));
      const folders = { home: this.options.home, artifactsDir: join(this.options.home, "artifacts", run.id), pipelineDir: pipeline.baseDir };
      const source = resolveTaskModelPath(spec.output, outputs[spec.output], folders);
      let metricsOf = outputs;
      if (spec.metricsFrom !== task.id) {
        const from = await this.options.store.tasks.get({ runId: run.id, taskId: spec.metricsFrom });
        metricsOf = from?.outputs ?? {};
      }
      const metrics = JSON.stringify(numericOutputs(metricsOf));
      // A folder on the way that became a link while the copy was taken would have led it elsewhere.
      const copied = await this.options.storage.put(source, spec.name, team, () => {
        if (resolveTaskModelPath(spec.output, outputs[spec.output], folders) !== source) throw new Error(`output ${spec.output}: the path changed while it was read; write the model before the task ends and leave it`);
      });
      const record = async (tx: Repositories, now: number): Promise<string | undefined> => {
        const model = await tx.models.ensure(spec.name, team, now);
        if (model.team !== team) return `register_model: ${takenMessage(spec.name)}`;
        // One version per run, task and content: a retry or a re-recorded end finds the one already written.
        const version =
          (await tx.models.registeredBy(spec.name, run.id, task.id, copied.sha256)) ??
          (await tx.models.addVersion({
            name: spec.name,
            kind: copied.kind,
            sha256: copied.sha256,
            artifactPath: copied.artifactPath,
            sourcePath: source,
            sizeBytes: copied.sizeBytes,
            runId: run.id,
            taskId: task.id,
            params: JSON.stringify(run.params),
            metrics,
            createdBy: `pipeline:${pipeline.spec.id}`,
            createdAt: now,
          }));
        if (spec.alias !== undefined) {
          await tx.models.setAlias(spec.name, spec.alias, Number(version.version), now);
          // Deployments that follow the alias serve the new version from now on (their controller rolls them).
          await tx.deployments.follow(spec.name, spec.alias, Number(version.version), now);
        }
        return undefined;
      };
      return { ok: true, record };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `register_model: ${message}` };
    }
  }
}
