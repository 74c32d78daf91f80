/**
 * The Deploy form's values turned into the API's create-deployment request, with the API's own
 * rules (src/operations/deployments.ts) checked first so each refusal is shown at its field.
 */
import type { RequestBody } from "../api/types.js";

export type CreateBody = RequestBody<"/api/deployments", "post">;
export type Field = "name" | "model" | "ref" | "target" | "cluster" | "namespace" | "replicas" | "gpus" | "cpu" | "memory";

/** The API's rules (src/operations/deployments.ts), checked before sending. */
const NAME_PATTERN = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const NAMESPACE_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const QUANTITY_PATTERN = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
export const MAX_REPLICAS = 32;
export const MAX_GPUS = 16;
export const FIELDS: readonly Field[] = ["name", "model", "ref", "target", "cluster", "namespace", "replicas", "gpus", "cpu", "memory"];

export interface DeployFormValues {
  name: string;
  model: string;
  ref: string;
  target: "local" | "kubernetes";
  cluster: string;
  namespace: string;
  replicas: string;
  gpus: string;
  cpu: string;
  memory: string;
  /** Local target: replicas ask for the deployment's inference key. */
  tokenAuth: boolean;
}

/** The request for `values`, or the message of each field that the API would refuse. */
export function deployRequest(values: DeployFormValues): { body: CreateBody } | { errors: Partial<Record<Field, string>> } {
  const errors: Partial<Record<Field, string>> = {};
  if (!NAME_PATTERN.test(values.name)) errors.name = "a lowercase letter, then up to 39 lowercase letters, digits or '-' (not ending in '-')";
  if (values.model === "") errors.model = "choose a model";
  if (values.ref === "") errors.ref = "choose an alias or a version";
  const replicas = Number(values.replicas);
  if (values.replicas.trim() === "" || !Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) errors.replicas = `a whole number from 0 to ${MAX_REPLICAS}`;
  const body: CreateBody = { name: values.name, model: values.model, ref: values.ref, replicas, target: values.target };
  if (values.target === "local" && !values.tokenAuth) body.token_auth = false;
  if (values.target === "kubernetes") {
    if (values.cluster === "") errors.cluster = "choose a cluster";
    else body.cluster = values.cluster;
    const namespace = values.namespace.trim() === "" ? "default" : values.namespace.trim();
    if (!NAMESPACE_PATTERN.test(namespace)) errors.namespace = "a Kubernetes namespace name: lowercase letters, digits and '-', at most 63";
    body.namespace = namespace;
    const gpus = values.gpus.trim() === "" ? 0 : Number(values.gpus);
    if (!Number.isInteger(gpus) || gpus < 0 || gpus > MAX_GPUS) errors.gpus = `a whole number from 0 to ${MAX_GPUS}`;
    body.gpus = gpus;
    for (const field of ["cpu", "memory"] as const) {
      const value = values[field].trim();
      if (value === "") continue;
      if (!QUANTITY_PATTERN.test(value)) errors[field] = "a Kubernetes quantity, e.g. 500m, 2, 1Gi";
      body[field] = value;
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { body };
}

