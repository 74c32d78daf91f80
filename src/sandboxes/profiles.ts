/**
 * Profiles and quotas from the `sandboxes:` section of capstan.yaml, resolved into numbers: what a
 * sandbox runs with (backend, image, cpu, memory, GPUs, cluster, namespace, idle timeout, team
 * volumes) and how many sandboxes and GPUs each team may hold.
 */
import type { SandboxesConfigFile } from "../config/index.js";
import { parseCpu, parseDuration, parseMemory } from "../units/index.js";
import { SandboxInputError } from "./errors.js";

/** A team volume as it appears in a sandbox: folder `path` under the home. */
export interface VolumeMount {
  name: string;
  path: string;
}

export interface SandboxProfile {
  name: string;
  description: string | null;
  backend: "local" | "kubernetes";
  image: string | null;
  cpu: number | null;
  memory: number | null;
  gpu: number;
  cluster: string | null;
  namespace: string | null;
  idleTimeoutMs: number;
  volumes: VolumeMount[];
}

export interface SandboxQuota {
  sandboxes: number;
  gpus: number;
}

export interface SandboxSettings {
  /** The origin template: {id} is the sandbox id, {port} the server's port. */
  origin: string;
  defaultProfile: string;
  profiles: ReadonlyMap<string, SandboxProfile>;
  /** Quota of a team not named in `teamQuotas`. */
  defaultQuota: SandboxQuota;
  teamQuotas: ReadonlyMap<string, SandboxQuota>;
}

/** Locally, each sandbox is its own origin under localhost, which browsers resolve to loopback. */
export const DEFAULT_SANDBOX_ORIGIN = "http://{id}.localhost:{port}";
export const DEFAULT_IDLE_TIMEOUT_MS = 2 * 3_600_000;
/** GPU profiles that set no timeout stop sooner: GPUs are the scarce thing. */
export const DEFAULT_GPU_IDLE_TIMEOUT_MS = 30 * 60_000;

const UNLIMITED: SandboxQuota = { sandboxes: Number.POSITIVE_INFINITY, gpus: Number.POSITIVE_INFINITY };

/** Resolves the configuration section (already checked by the schema) into settings; throws SandboxInputError for cross-field problems. */
export function resolveSandboxSettings(file: SandboxesConfigFile | undefined): SandboxSettings {
  const profiles = new Map<string, SandboxProfile>();
  for (const [name, p] of Object.entries(file?.profiles ?? {})) {
    const gpu = p.gpu ?? 0;
    const backend = p.backend ?? "local";
    if (backend === "local" && (p.cluster !== undefined || p.namespace !== undefined)) {
      throw new SandboxInputError(`sandboxes.profiles.${name}.cluster`, `profile ${name} runs locally, so cluster and namespace mean nothing; set backend: kubernetes to run it on a cluster`);
    }
    if (backend === "kubernetes" && p.image === undefined) {
      throw new SandboxInputError(`sandboxes.profiles.${name}.image`, `profile ${name} runs on Kubernetes and needs an image`);
    }
    const volumes = (p.volumes ?? []).map((v) => (typeof v === "string" ? { name: v, path: `shared/${v}` } : { name: v.name, path: v.path ?? `shared/${v.name}` }));
    const paths = new Set<string>();
    for (const v of volumes) {
      if (paths.has(v.path)) throw new SandboxInputError(`sandboxes.profiles.${name}.volumes`, `profile ${name} mounts two volumes at ${v.path}`);
      paths.add(v.path);
    }
    profiles.set(name, {
      name,
      description: p.description ?? null,
      backend,
      image: p.image ?? null,
      cpu: p.cpu === undefined ? null : (parseCpu(p.cpu) ?? null),
      memory: p.memory === undefined ? null : (parseMemory(p.memory) ?? null),
      gpu,
      cluster: p.cluster ?? null,
      namespace: p.namespace ?? null,
      idleTimeoutMs: p.idle_timeout === undefined ? (gpu > 0 ? DEFAULT_GPU_IDLE_TIMEOUT_MS : DEFAULT_IDLE_TIMEOUT_MS) : (parseDuration(p.idle_timeout) ?? DEFAULT_IDLE_TIMEOUT_MS),
      volumes,
    });
  }
  if (profiles.size === 0) {
    profiles.set("default", { name: "default", description: "JupyterLab on this machine", backend: "local", image: null, cpu: null, memory: null, gpu: 0, cluster: null, namespace: null, idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS, volumes: [] });
  }
  const defaultProfile = file?.default_profile ?? (profiles.has("default") ? "default" : [...profiles.keys()][0]!);
  if (!profiles.has(defaultProfile)) {
    throw new SandboxInputError("sandboxes.default_profile", `default_profile ${JSON.stringify(defaultProfile)} is not a profile; profiles: ${[...profiles.keys()].join(", ")}`);
  }
  const quotas = file?.quotas ?? {};
  const fill = (q: { sandboxes?: number; gpus?: number } | undefined, base: SandboxQuota): SandboxQuota => ({ sandboxes: q?.sandboxes ?? base.sandboxes, gpus: q?.gpus ?? base.gpus });
  const defaultQuota = fill(quotas.default, UNLIMITED);
  const teamQuotas = new Map<string, SandboxQuota>();
  for (const [team, q] of Object.entries(quotas)) if (team !== "default") teamQuotas.set(team, fill(q, defaultQuota));
  return { origin: file?.origin ?? DEFAULT_SANDBOX_ORIGIN, defaultProfile, profiles, defaultQuota, teamQuotas };
}

/** The quota of one team. */
export function quotaOf(settings: SandboxSettings, team: string): SandboxQuota {
  return settings.teamQuotas.get(team) ?? settings.defaultQuota;
}

/** The origin a sandbox is served from. */
export function sandboxOrigin(template: string, id: string, port: number): string {
  return template.replaceAll("{id}", id).replaceAll("{port}", String(port));
}
