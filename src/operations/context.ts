/**
 * What the operations work on: the store, the loaded pipelines, team secrets and, for changes, the
 * scheduler's commands; and who asks (a viewer that may read some teams). The HTTP server gives
 * the running platform and the signed-in principal; the CLI without a server gives the home opened
 * in its own process and a viewer that sees every team.
 */
import type { LoadedPipeline, ValidationIssue } from "../pipelines/index.js";
import type { Scheduler } from "../scheduler/index.js";
import type { SecretService } from "../secrets/index.js";
import type { VolumeRegistry } from "../storage/index.js";
import type { Store } from "../store/index.js";
import type { KafkaTriggerView } from "../streams/index.js";

/** The scheduler's commands the operations call. */
export type SchedulerCommands = Pick<Scheduler, "trigger" | "backfill" | "cancel" | "clear" | "mark" | "wake" | "pipelinesChanged">;

/** A pipeline file that failed to load, as the operations list it. */
export interface LoadErrorRecord {
  file: string;
  message: string;
  issues: readonly unknown[] | readonly ValidationIssue[];
  /** The pipeline the file held when it last loaded, where known. */
  pipelineId: string | null;
}

export interface OperationsContext {
  store: Store;
  /** The platform's home (registered model versions are copied under models/). */
  home: string;
  /** The pipelines loaded now. */
  pipelines: { get(id: string): LoadedPipeline | undefined; list(): LoadedPipeline[] };
  /** Files that failed to load. */
  loadErrors(): Promise<LoadErrorRecord[]>;
  secrets: SecretService;
  /** Team volumes from capstan.yaml (operations/storage.ts decides who sees and writes them). */
  volumes: VolumeRegistry;
  /** capstan.yaml's `models.store`: per team, the volume its model versions are written to (others: the home). */
  modelStores: Readonly<Record<string, string>>;
  /** The scheduler's commands; in the CLI without a server this opens the platform (and takes the home's lock). */
  scheduler(): Promise<SchedulerCommands>;
  /** The Kafka triggers consuming in this process (src/streams); absent where none consume (the CLI without a server). */
  triggers?: { describe(pipeline: LoadedPipeline): Promise<KafkaTriggerView[]> };
}

/** Who asks. The auth module's Principal is one; the CLI without a server sees everything. */
export interface Viewer {
  readonly username: string | null;
  readonly isAdmin: boolean;
  canRead(team: string): boolean;
  canEdit(team: string): boolean;
}

/** The viewer of commands run on the home itself: whoever may open the home may do anything in it. */
export const HOME_VIEWER: Viewer = { username: null, isAdmin: true, canRead: () => true, canEdit: () => true };
