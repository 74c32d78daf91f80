/** A pipeline's Kafka triggers as the UI shows them: state since when, error, and per-partition offsets and lag. */
import { z } from "zod";
import type { OperationsContext, Viewer } from "./context.js";
import { noPipeline } from "./pipelines.js";

const PartitionSchema = z.object({
  partition: z.number().int(),
  committed: z.string().nullable().describe("The group's committed offset (the next message it reads); null when it has committed none"),
  end: z.string().describe("The partition's end offset (the next message produced)"),
  lag: z.string().describe("Messages not yet committed: end - committed"),
});

export const PipelineTriggersSchema = z.object({
  pipeline: z.string(),
  consuming_here: z.boolean().describe("Whether this process consumes (a server does; a CLI without one does not, and shows every trigger as stopped)"),
  triggers: z.array(
    z.object({
      index: z.number().int(),
      connection: z.string(),
      topic: z.string(),
      group: z.string(),
      filter: z.string().nullable(),
      state: z.string().describe("consuming, starting, paused (with its pipeline), failed (see error; retried every 5 s) or stopped"),
      error: z.string().nullable(),
      since: z.string().nullable().describe("ISO time the trigger came into its state; null when it is not running in this process"),
      runs_created: z.number().int(),
      filtered_out: z.number().int(),
      partitions: z.array(PartitionSchema),
    }),
  ),
});
export type PipelineTriggers = z.infer<typeof PipelineTriggersSchema>;

/** The triggers of pipeline `id`, for a viewer who may read its team (others get not found, as for the pipeline itself). */
export async function pipelineTriggers(ctx: OperationsContext, viewer: Viewer, id: string): Promise<PipelineTriggers> {
  const loaded = ctx.pipelines.get(id);
  if (!loaded || !viewer.canRead(loaded.spec.team)) throw noPipeline(id);
  if (!ctx.triggers) {
    return {
      pipeline: id,
      consuming_here: false,
      triggers: (loaded.spec.triggers ?? []).map((t, index) => ({ index, connection: t.connection, topic: t.topic, group: t.group, filter: t.filter ?? null, state: "stopped", error: null, since: null, runs_created: 0, filtered_out: 0, partitions: [] })),
    };
  }
  return { pipeline: id, consuming_here: true, triggers: await ctx.triggers.describe(loaded) };
}
