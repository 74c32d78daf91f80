/** The store: SQLite or PostgreSQL through Kysely, migrations, and one repository per aggregate. */
export { Store, StoreError, type Dialect, type OpenStoreOptions, type Repositories } from "./store.js";
export type { ChangeMessage } from "./change-feed.js";
export type { Attempt, AttemptKey, Pool, Run, TaskInstance, TaskKey } from "./records.js";
export type { NewRun, NewTaskInstance, RunListFilter } from "./run-repository.js";
export type { TaskPatch } from "./task-instance-repository.js";
export type { LoadErrorInput, PipelineVersionInput } from "./pipeline-repository.js";
export * from "./states.js";
export type { SandboxPatch, StoredSandbox } from "./sandbox-repository.js";
export { SANDBOX_STATES, type SandboxState } from "./sandbox-schema.js";
export type { NewModelVersion, StoredModel, StoredModelAlias, StoredModelVersion } from "./model-repository.js";
export type { DeploymentPatch, StoredDeployment } from "./deployment-repository.js";
export { DEPLOYMENT_STATES, DEPLOYMENT_TARGETS, type DeploymentState, type DeploymentTarget } from "./deployment-schema.js";
export type { StoredShare } from "./share-repository.js";
export type { ConnectionInput, StoredConnection } from "./connection-repository.js";
