/**
 * Pod template files: a Pod manifest in YAML that a cluster or a task uses as the base of its pods
 * (sidecars, init containers, defaults of a platform team). Task fields override what it says.
 */
import { readFileSync } from "node:fs";
import type { V1Pod } from "@kubernetes/client-node";
import { parse } from "yaml";
import { PodBuildError } from "./errors.js";

/** Reads and checks a pod template; `field` names the setting that points at it, for errors. */
export function loadPodTemplate(path: string, field: readonly (string | number)[]): V1Pod {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new PodBuildError(`cannot read pod template ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, field, { cause: error });
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new PodBuildError(`pod template ${path} is not valid YAML: ${(error as Error).message.split("\n")[0] ?? ""}`, field, { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PodBuildError(`pod template ${path} must hold one Pod manifest (a mapping with spec.containers)`, field);
  }
  const pod = value as V1Pod & { kind?: unknown };
  if (pod.kind !== undefined && pod.kind !== "Pod") {
    throw new PodBuildError(`pod template ${path} has kind ${JSON.stringify(pod.kind)}; expected a Pod manifest (kind: Pod)`, field);
  }
  const containers = (pod.spec as { containers?: unknown } | undefined)?.containers;
  if (containers !== undefined && !Array.isArray(containers)) {
    throw new PodBuildError(`pod template ${path}: spec.containers must be a list`, field);
  }
  return pod;
}
