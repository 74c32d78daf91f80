/**
 * Deployments for both clients: a model's alias (or version) served by N replicas on a target
 * (local `capstan serve` processes run by `capstan up`, or a Kubernetes Deployment + Service).
 * These operations record what is wanted; the deployment controller (src/serving/deployments/)
 * makes it so and reports the replicas. An alias that moves moves its deployments (setModelAlias
 * moves them in the same transaction); rollback goes back to the version served before. Another team's deployment
 * is not found, exactly like one that does not exist.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { ConflictError, InvalidRequestError, NotFoundError } from "../scheduler/index.js";
import { DEPLOYMENT_STATES, DEPLOYMENT_TARGETS, type StoredDeployment } from "../store/index.js";
import type { OperationsContext, Viewer } from "./context.js";
import { modelVersion, noModel } from "./models.js";

/** A deployment name: also the Kubernetes objects' name, so DNS-label rules, short enough for a suffix. */
export const DEPLOYMENT_NAME_PATTERN = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const NAMESPACE_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const QUANTITY_PATTERN = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
/** The most replicas one deployment may ask for. */
export const MAX_REPLICAS = 32;

export const ReplicaViewSchema = z
  .object({
    replica: z.string().describe("Its index (local) or its pod's name (Kubernetes)"),
    version: z.number().int(),
    state: z.enum(["starting", "ready", "stopping", "failed"]),
    url: z.string().nullable().describe("Where it answers TorchServe's inference API (local replicas)"),
    pid: z.number().int().nullable(),
    message: z.string().nullable(),
  })
  .meta({ id: "DeploymentReplica" });
export type ReplicaView = z.infer<typeof ReplicaViewSchema>;

export const DeploymentViewSchema = z
  .object({
    name: z.string(),
    team: z.string(),
    model: z.string(),
    ref: z.string().describe("The alias it follows, or the version number it is pinned to"),
    version: z.number().int().describe("The version it serves (or is rolling to)"),
    previous_version: z.number().int().nullable().describe("Where rollback goes"),
    replicas: z.number().int(),
    target: z.enum(DEPLOYMENT_TARGETS),
    cluster: z.string().nullable(),
    namespace: z.string().nullable(),
    resources: z.object({ cpu: z.string().nullable(), memory: z.string().nullable(), gpus: z.number().int() }),
    state: z.enum(DEPLOYMENT_STATES),
    message: z.string().nullable(),
    replica_status: z.array(ReplicaViewSchema).describe("As the controller last saw them"),
    token_auth: z.boolean().describe("Local replicas ask for the deployment's inference key (GET /api/deployments/NAME/key)"),
    created_by: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: "Deployment" });
export type DeploymentView = z.infer<typeof DeploymentViewSchema>;

export const CreateDeploymentRequestSchema = z.strictObject({
  name: z.string().min(1).max(100).describe("1–40 lowercase letters, digits and '-', starting with a letter"),
  model: z.string().min(1).max(63),
  ref: z.string().min(1).max(63).describe("An alias (production) or a version number (3)"),
  replicas: z.number().int().optional().describe(`0–${MAX_REPLICAS}, default 1`),
  target: z.enum(DEPLOYMENT_TARGETS).optional().describe("local (default) or kubernetes"),
  cluster: z.string().min(1).max(63).optional().describe("Kubernetes target: a cluster of capstan.yaml"),
  namespace: z.string().min(1).max(63).optional().describe("Kubernetes target: the namespace (default: default)"),
  cpu: z.string().min(1).max(20).optional(),
  memory: z.string().min(1).max(20).optional(),
  gpus: z.number().int().optional(),
  token_auth: z.boolean().optional().describe("Local replicas ask for the deployment's inference key (default true, as TorchServe ≥ 0.11); false: they answer anyone on 127.0.0.1"),
});
export type CreateDeploymentRequest = z.infer<typeof CreateDeploymentRequestSchema>;

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

export function deploymentView(row: StoredDeployment): DeploymentView {
  let replicas: ReplicaView[] = [];
  try {
    replicas = row.replicaStatus === null ? [] : (JSON.parse(row.replicaStatus) as ReplicaView[]);
  } catch {
    replicas = [];
  }
  return {
    name: row.name,
    team: row.team,
    model: row.model,
    ref: row.ref,
    version: Number(row.version),
    previous_version: row.previousVersion === null ? null : Number(row.previousVersion),
    replicas: Number(row.replicas),
    target: row.target,
    cluster: row.cluster,
    namespace: row.namespace,
    resources: { cpu: row.cpu, memory: row.memory, gpus: Number(row.gpus) },
    state: row.state,
    message: row.message,
    replica_status: replicas,
    token_auth: Number(row.tokenAuth) !== 0,
    created_by: row.createdBy,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

export function noDeployment(name: string): NotFoundError {
  return new NotFoundError(`name: no deployment ${JSON.stringify(name)}`);
}

/** The deployment when the viewer may read its team; otherwise the same not-found as one that does not exist. */
async function visibleDeployment(ctx: OperationsContext, viewer: Viewer, name: string): Promise<StoredDeployment> {
  const row = await ctx.store.deployments.get(name);
  if (!row || !viewer.canRead(row.team)) throw noDeployment(name);
  return row;
}

/** The deployment's team when the viewer may read it (routes then check the role). */
export async function deploymentTeam(ctx: OperationsContext, viewer: Viewer, name: string): Promise<string> {
  return (await visibleDeployment(ctx, viewer, name)).team;
}

function checkReplicas(replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) throw new InvalidRequestError(`replicas: ${replicas} is not a replica count; use a whole number from 0 to ${MAX_REPLICAS}`);
}

export async function listDeployments(ctx: OperationsContext, viewer: Viewer, filter: { team?: string | undefined; model?: string | undefined } = {}): Promise<DeploymentView[]> {
  const rows = await ctx.store.deployments.list({ ...(filter.team !== undefined ? { teams: [filter.team] } : {}), ...(filter.model !== undefined ? { model: filter.model } : {}) });
  return rows.filter((row) => viewer.canRead(row.team)).map(deploymentView);
}

export async function deploymentDetail(ctx: OperationsContext, viewer: Viewer, name: string): Promise<DeploymentView> {
  return deploymentView(await visibleDeployment(ctx, viewer, name));
}

/** Where the platform may deploy: the Kubernetes clusters of capstan.yaml. */
export interface DeploymentPlaces {
  clusters: readonly string[];
}

/** Records a new deployment of `model` at `ref`; the caller must be an editor of the model's team (checked by the caller). */
export async function createDeployment(ctx: OperationsContext, viewer: Viewer, request: CreateDeploymentRequest, places: DeploymentPlaces): Promise<DeploymentView> {
  if (!DEPLOYMENT_NAME_PATTERN.test(request.name)) {
    throw new InvalidRequestError(`name: ${JSON.stringify(request.name)} is not a deployment name; use a lowercase letter then up to 39 lowercase letters, digits or '-' (not ending in '-')`);
  }
  const model = await ctx.store.models.get(request.model);
  if (!model || !viewer.canRead(model.team)) throw noModel(request.model);
  const version = await modelVersion(ctx, viewer, request.model, request.ref);
  const replicas = request.replicas ?? 1;
  checkReplicas(replicas);
  const target = request.target ?? "local";
  const gpus = request.gpus ?? 0;
  if (!Number.isInteger(gpus) || gpus < 0 || gpus > 16) throw new InvalidRequestError(`gpus: ${gpus} is not a GPU count; use a whole number from 0 to 16`);
  for (const [field, value] of [["cpu", request.cpu], ["memory", request.memory]] as const) {
    if (value !== undefined && !QUANTITY_PATTERN.test(value)) throw new InvalidRequestError(`${field}: ${JSON.stringify(value)} is not a Kubernetes quantity (e.g. 500m, 2, 1Gi)`);
  }
  let cluster: string | null = null;
  let namespace: string | null = null;
  if (target === "kubernetes") {
    cluster = request.cluster ?? (places.clusters.length === 1 ? places.clusters[0]! : null);
    if (cluster === null) {
      throw new InvalidRequestError(places.clusters.length === 0 ? "cluster: no Kubernetes cluster is configured (clusters: in capstan.yaml)" : `cluster: name one of ${places.clusters.join(", ")}`);
    }
    if (!places.clusters.includes(cluster)) throw new InvalidRequestError(`cluster: ${JSON.stringify(cluster)} is not a cluster of capstan.yaml; known: ${places.clusters.join(", ") || "none"}`);
    namespace = request.namespace ?? "default";
    if (!NAMESPACE_PATTERN.test(namespace)) throw new InvalidRequestError(`namespace: ${JSON.stringify(namespace)} is not a Kubernetes namespace name`);
    if (request.token_auth === true) throw new InvalidRequestError("token_auth: Kubernetes replicas are reached through their Service inside the cluster and ask for no key (not built yet); leave token_auth out");
  } else if (request.cluster !== undefined || request.namespace !== undefined) {
    throw new InvalidRequestError("cluster: cluster and namespace are for target kubernetes; a local deployment runs on the platform's machine");
  } else if (gpus > 0) {
    throw new InvalidRequestError("gpus: local replicas take the machine's GPUs as capstan serve assigns them (number_of_gpu); ask for GPUs with target kubernetes");
  }
  if (await ctx.store.deployments.get(request.name)) throw new ConflictError(`name: the deployment name ${JSON.stringify(request.name)} is taken; choose another name`);
  const now = Date.now();
  const row: StoredDeployment = {
    name: request.name,
    team: model.team,
    model: model.name,
    ref: request.ref,
    version: version.version,
    previousVersion: null,
    replicas,
    target,
    cluster,
    namespace,
    cpu: request.cpu ?? null,
    memory: request.memory ?? null,
    gpus,
    state: "pending",
    message: null,
    replicaStatus: null,
    tokenAuth: target === "local" && request.token_auth !== false ? 1 : 0,
    inferenceKey: newInferenceKey(),
    createdBy: viewer.username,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await ctx.store.deployments.insert(row);
  } catch (error) {
    if (await ctx.store.deployments.get(request.name)) throw new ConflictError(`name: the deployment name ${JSON.stringify(request.name)} is taken; choose another name`);
    throw error;
  }
  return deploymentView(row);
}

/** A new inference key: 192 random bits, base64url. */
export function newInferenceKey(): string {
  return randomBytes(24).toString("base64url");
}

export const DeploymentKeySchema = z
  .object({
    name: z.string(),
    key: z.string().describe("The inference key every local replica of the deployment asks for"),
    header: z.string().describe("The header to send: Authorization: Bearer KEY"),
  })
  .meta({ id: "DeploymentKey" });
export type DeploymentKeyView = z.infer<typeof DeploymentKeySchema>;

/** The inference key of a deployment whose replicas ask for one (made now for a deployment recorded before keys were kept). */
export async function deploymentKey(ctx: OperationsContext, viewer: Viewer, name: string): Promise<DeploymentKeyView> {
  const row = await visibleDeployment(ctx, viewer, name);
  if (Number(row.tokenAuth) === 0) throw new ConflictError(`name: deployment ${name} runs without token authorization (token_auth false); its replicas need no key`);
  if (row.target !== "local") throw new ConflictError(`name: deployment ${name} runs on Kubernetes, where its replicas are reached through their Service without a key`);
  const key = row.inferenceKey ?? (await ctx.store.deployments.inferenceKey(name, newInferenceKey()));
  if (key === undefined) throw noDeployment(name);
  return { name, key, header: `Authorization: Bearer ${key}` };
}

/** Sets the replica count. */
export async function scaleDeployment(ctx: OperationsContext, viewer: Viewer, name: string, replicas: number): Promise<DeploymentView> {
  const row = await visibleDeployment(ctx, viewer, name);
  checkReplicas(replicas);
  if (row.state === "deleting") throw new ConflictError(`name: deployment ${name} is being deleted`);
  await ctx.store.deployments.update(name, { replicas, state: "pending" }, Date.now());
  return deploymentDetail(ctx, viewer, name);
}

/**
 * Goes back to the version served before. A deployment that follows an alias moves the alias back
 * (so the registry says what is live, and every deployment of that alias follows); one pinned to a
 * number is pinned to the previous one.
 */
export async function rollbackDeployment(ctx: OperationsContext, viewer: Viewer, name: string): Promise<DeploymentView> {
  const row = await visibleDeployment(ctx, viewer, name);
  if (row.previousVersion === null) throw new ConflictError(`name: deployment ${name} has served only version ${row.version}; there is nothing to roll back to`);
  const previous = Number(row.previousVersion);
  if (!(await ctx.store.models.version(row.model, previous))) throw new NotFoundError(`version: model ${row.model} has no version ${previous} any more`);
  const now = Date.now();
  if (/^\d+$/.test(row.ref)) {
    await ctx.store.transaction(async (tx) => {
      await tx.deployments.update(name, { ref: String(previous) }, now);
      await tx.deployments.moveTo(name, previous, now);
    });
  } else {
    await ctx.store.transaction(async (tx) => {
      await tx.models.setAlias(row.model, row.ref, previous, now);
      await tx.deployments.follow(row.model, row.ref, previous, now);
    });
  }
  return deploymentDetail(ctx, viewer, name);
}

/** Marks the deployment for removal; the controller stops its replicas (or deletes its objects) and then the record. */
export async function deleteDeployment(ctx: OperationsContext, viewer: Viewer, name: string): Promise<DeploymentView> {
  await visibleDeployment(ctx, viewer, name);
  await ctx.store.deployments.update(name, { state: "deleting", message: "stopping its replicas" }, Date.now());
  return deploymentDetail(ctx, viewer, name);
}
