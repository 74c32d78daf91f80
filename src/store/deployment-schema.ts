/** The deployments table: a model alias (or version) served by N replicas on a target, with what the controller last saw. */
import type { ColumnType } from "kysely";

export const DEPLOYMENT_TARGETS = ["local", "kubernetes"] as const;
export type DeploymentTarget = (typeof DEPLOYMENT_TARGETS)[number];

/** pending: not yet rolled out; rolling: replicas of the wanted version are replacing others; ready: all serve it; failed: see message; deleting: being torn down. */
export const DEPLOYMENT_STATES = ["pending", "rolling", "ready", "failed", "deleting"] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

export interface DeploymentsTable {
  /** Unique across teams: it names the replicas' processes, or the Kubernetes objects. */
  name: string;
  /** The model's team. */
  team: string;
  model: string;
  /** An alias of the model (followed when it moves) or a version number, as text. */
  ref: string;
  /** The version the deployment serves now (what `ref` resolved to). */
  version: number;
  /** The version it served before the last move, for rollback. */
  previousVersion: number | null;
  replicas: number;
  target: DeploymentTarget;
  /** Kubernetes target: the cluster (from capstan.yaml) and namespace. */
  cluster: string | null;
  namespace: string | null;
  /** Per replica: Kubernetes quantities ("500m", "1Gi") or null. */
  cpu: string | null;
  memory: string | null;
  gpus: number;
  state: DeploymentState;
  /** Why it failed or what it waits for, or null. */
  message: string | null;
  /** The replicas as the controller last saw them (JSON array), or null. */
  replicaStatus: string | null;
  /** 1: local replicas ask for the inference key (TorchServe's token authorization); 0: they answer anyone on 127.0.0.1. */
  tokenAuth: ColumnType<number, number | undefined, number>;
  /** The inference key of every local replica (base64url); never in a list or detail answer. Null until first needed. */
  inferenceKey: string | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}
