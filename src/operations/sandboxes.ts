/**
 * Sandboxes for both clients: list, detail, create, start, stop, delete and open, through the
 * platform's SandboxService (which decides who may), answered in the API's JSON shape (snake_case,
 * ISO times) written once here as zod schemas; and the profiles a create form offers.
 */
import { z } from "zod";
import type { Principal } from "../auth/index.js";
import type { SandboxProxy, SandboxService, SandboxView } from "../sandboxes/index.js";
import { SANDBOX_STATES } from "../store/index.js";
import { isoOrNull } from "./views.js";

const isoTime = z.string().describe("An ISO 8601 time (UTC)");

export const SandboxStateSchema = z.enum(SANDBOX_STATES).meta({ id: "SandboxState" });

export const SandboxViewSchema = z
  .object({
    id: z.string().describe("The sandbox's id; its origin and home are keyed by it"),
    owner: z.string(),
    team: z.string(),
    name: z.string(),
    profile: z.string(),
    backend: z.string(),
    state: SandboxStateSchema,
    reason: z.string().nullable().describe("Why it failed, or why it was last stopped"),
    gpus: z.int().min(0),
    created_at: isoTime,
    started_at: isoTime.nullable(),
    last_activity: isoTime.describe("The owner's latest traffic or kernel activity"),
    idle_timeout_ms: z.int().min(0).nullable(),
    stops_at: isoTime.nullable().describe("When idle culling stops it if nothing happens (running sandboxes)"),
  })
  .meta({ id: "SandboxView" });
export type SandboxApiView = z.infer<typeof SandboxViewSchema>;

export const SandboxProfileViewSchema = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    backend: z.string(),
    gpu: z.int().min(0),
    cpu: z.number().nullable(),
    memory: z.number().nullable().describe("Bytes"),
    idle_timeout_ms: z.int().min(0),
    volumes: z.array(z.object({ name: z.string(), path: z.string() })),
    default: z.boolean(),
  })
  .meta({ id: "SandboxProfile" });
export type SandboxProfileView = z.infer<typeof SandboxProfileViewSchema>;

export const CreateSandboxRequestSchema = z.strictObject({
  name: z.string().max(200).describe("1–32 lowercase letters, digits and '-'"),
  team: z.string().min(1).max(63).optional().describe("Needed when the caller is in several teams"),
  profile: z.string().min(1).max(63).optional(),
});
export type CreateSandboxRequest = z.infer<typeof CreateSandboxRequestSchema>;

/** A sandbox in the API's shape. */
export function sandboxApiView(view: SandboxView): SandboxApiView {
  return {
    id: view.id,
    owner: view.owner,
    team: view.team,
    name: view.name,
    profile: view.profile,
    backend: view.backend,
    state: view.state,
    reason: view.reason,
    gpus: view.gpus,
    created_at: isoOrNull(view.createdAt)!,
    started_at: isoOrNull(view.startedAt),
    last_activity: isoOrNull(view.lastActivity)!,
    idle_timeout_ms: view.idleTimeoutMs,
    stops_at: isoOrNull(view.stopsAt),
  };
}

export async function listSandboxes(service: SandboxService, principal: Principal, filter: { team?: string | undefined; mine?: boolean | undefined } = {}): Promise<SandboxApiView[]> {
  const views = await service.list(principal, { ...(filter.team !== undefined ? { team: filter.team } : {}), ...(filter.mine ? { mine: true } : {}) });
  return views.map(sandboxApiView);
}

export async function sandboxDetail(service: SandboxService, principal: Principal, id: string): Promise<SandboxApiView> {
  return sandboxApiView(await service.get(principal, id));
}

export async function createSandbox(service: SandboxService, principal: Principal, request: CreateSandboxRequest): Promise<SandboxApiView> {
  return sandboxApiView(await service.create(principal, request));
}

/** Starts a sandbox; with `wait` (the default) answers once it runs or has failed. */
export async function startSandbox(service: SandboxService, principal: Principal, id: string, wait = true): Promise<SandboxApiView> {
  return sandboxApiView(await service.start(principal, id, { wait }));
}

export async function stopSandbox(service: SandboxService, principal: Principal, id: string): Promise<SandboxApiView> {
  return sandboxApiView(await service.stop(principal, id));
}

export async function deleteSandbox(service: SandboxService, principal: Principal, id: string, confirm: string | undefined): Promise<void> {
  await service.delete(principal, id, { confirm });
}

/** The one-time URL on the sandbox's own origin that signs its owner in there (valid 60 s, once). */
export async function openSandbox(proxy: SandboxProxy, principal: Principal, id: string, path?: string): Promise<{ url: string }> {
  return { url: await proxy.openUrl(principal, id, path) };
}

/** The profiles admins defined, for the create form and `capstan sandbox create --profile`. */
export function sandboxProfiles(service: SandboxService): SandboxProfileView[] {
  const { profiles, defaultProfile } = service.settings;
  return [...profiles.values()].map((p) => ({
    name: p.name,
    description: p.description,
    backend: p.backend,
    gpu: p.gpu,
    cpu: p.cpu,
    memory: p.memory,
    idle_timeout_ms: p.idleTimeoutMs,
    volumes: p.volumes.map((v) => ({ name: v.name, path: v.path })),
    default: p.name === defaultProfile,
  }));
}
