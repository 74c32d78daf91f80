/**
 * The application layer: what the API and the CLI do — list and show pipelines, runs and tasks,
 * trigger, backfill, cancel, clear, mark, read logs, manage pools and secrets — written once.
 * HTTP routes call these after deciding who may; the CLI without a server calls them on the home.
 */
export { HOME_VIEWER, type LoadErrorRecord, type OperationsContext, type SchedulerCommands, type Viewer } from "./context.js";
export { HomeContext } from "./home-context.js";
export { platformContext } from "./platform-context.js";
export { pipelineGrid } from "./grid.js";
export { listPipelines, noPipeline, pipelineDetail, pipelineVersion, pipelineVersions, setPaused } from "./pipelines.js";
export { pipelineTriggers, PipelineTriggersSchema, type PipelineTriggers } from "./pipeline-triggers.js";
export { backfillRuns, cancelRun, getRun, listRuns, MAX_BACKFILL_RUNS, noRun, triggerRun, type BackfillRequest, type RunListFilter, type RunOrigin, type TriggerRequest } from "./runs.js";
export { attemptOf, clearTask, findTask, markTask, noTask, readTaskLog, taskDetail, taskOutputs } from "./tasks.js";
export { deletePool, listPools, setPool } from "./pools.js";
export { deleteSecret, listSecrets, setSecret } from "./secrets.js";
export { redactRunViews, redactTaskFields, redactValues } from "./redact-values.js";
export { watchRun } from "./watch-run.js";
export * from "./views.js";
export { createDeployment, CreateDeploymentRequestSchema, DEPLOYMENT_NAME_PATTERN, deleteDeployment, deploymentDetail, deploymentKey, DeploymentKeySchema, newInferenceKey, type DeploymentKeyView, deploymentTeam, deploymentView, DeploymentViewSchema, listDeployments, MAX_REPLICAS, noDeployment, ReplicaViewSchema, rollbackDeployment, scaleDeployment, type CreateDeploymentRequest, type DeploymentPlaces, type DeploymentView, type ReplicaView } from "./deployments.js";
export { listModels, modelDetail, modelTeam, modelVersion, modelVersionArchive, noModel, registerModelVersion, setModelAlias, ModelDetailSchema, ModelSummarySchema, ModelVersionViewSchema, type ModelDetail, type ModelSummary, type ModelVersionView, type RegisterModelRequest } from "./models.js";
export { createSandbox, CreateSandboxRequestSchema, deleteSandbox, listSandboxes, openSandbox, sandboxApiView, sandboxDetail, sandboxProfiles, SandboxProfileViewSchema, SandboxStateSchema, SandboxViewSchema, startSandbox, stopSandbox, type CreateSandboxRequest, type SandboxApiView, type SandboxProfileView } from "./sandboxes.js";
export { deleteEntry, EntryPageSchema, entryView, listEntries, listVolumes, makeFolder, moveEntry, readableStorage, searchEntries, statEntry, StorageEntrySchema, volumeFor, VolumeViewSchema, volumePath, writeFile, zipEntry, type EntryPage, type StorageEntryView, type VolumeNeed, type VolumeView } from "./storage.js";
export { countShareDownload, createShare, CreateShareRequestSchema, listShares, pathInShare, publicShare, PublicShareSchema, readShare, revokeShare, sharedPath, ShareViewSchema, unlockShare, type CreateShareRequest, type OpenShare, type PublicShare, type ShareCredentials, type ShareView } from "./shares.js";
export { connectionDetail, ConnectionCheckSchema, ConnectionSpecSchema, ConnectionViewSchema, deleteConnection, listConnections, setConnection, testConnection, type ConnectionCheckView, type ConnectionView } from "./connections.js";
