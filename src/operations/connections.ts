/**
 * Team connections: their readers see settings and secret references (never a secret's value);
 * editors create, replace, delete and test them. A test resolves the secrets in this process,
 * reaches the endpoint and answers only whether it worked and the masked message.
 */
import { z } from "zod";
import { checkConnection, CONNECTION_KINDS, ConnectionService, type ConnectionRecord, type ConnectionSpec } from "../connections/index.js";
import type { OperationsContext, Viewer } from "./context.js";

const isoTime = z.string().describe("An ISO 8601 time (UTC)");

export const ConnectionViewSchema = z
  .object({
    team: z.string(),
    name: z.string(),
    kind: z.enum(CONNECTION_KINDS),
    description: z.string().nullable(),
    settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
    secrets: z.record(z.string(), z.string()).describe('credential field → "secret-name/key" (the value is never shown)'),
    updated_at: isoTime,
  })
  .meta({ id: "Connection" });
export type ConnectionView = z.infer<typeof ConnectionViewSchema>;

export const ConnectionCheckSchema = z
  .object({ ok: z.boolean(), message: z.string(), elapsed_ms: z.number().int() })
  .meta({ id: "ConnectionCheck" });
export type ConnectionCheckView = z.infer<typeof ConnectionCheckSchema>;

export const ConnectionSpecSchema = z.strictObject({
  kind: z.enum(CONNECTION_KINDS),
  description: z.string().max(500).optional(),
  settings: z.record(z.string(), z.unknown()),
  secrets: z.record(z.string().max(64), z.string().max(200)).optional(),
});

function connections(ctx: OperationsContext): ConnectionService {
  return new ConnectionService(ctx.store, ctx.secrets);
}

function view(record: ConnectionRecord): ConnectionView {
  return {
    team: record.team,
    name: record.name,
    kind: record.kind,
    description: record.description,
    settings: record.settings,
    secrets: record.secrets,
    updated_at: new Date(record.updatedAt).toISOString(),
  };
}

/** Connections of the teams the viewer reads (all teams, or `team` alone). */
export async function listConnections(ctx: OperationsContext, viewer: Viewer, team?: string): Promise<ConnectionView[]> {
  return (await connections(ctx).list(team)).filter((c) => viewer.canRead(c.team)).map(view);
}

export async function connectionDetail(ctx: OperationsContext, team: string, name: string): Promise<ConnectionView> {
  return view(await connections(ctx).get(team, name));
}

/** Creates or replaces a connection after checking it against its kind and the team's secrets. */
export async function setConnection(ctx: OperationsContext, team: string, name: string, spec: ConnectionSpec): Promise<ConnectionView> {
  return view(await connections(ctx).set(team, name, spec));
}

export async function deleteConnection(ctx: OperationsContext, team: string, name: string): Promise<void> {
  await connections(ctx).delete(team, name);
}

/** Reaches the connection's endpoint with its credentials; a failure is an answer (ok: false), not an error. */
export async function testConnection(ctx: OperationsContext, team: string, name: string): Promise<ConnectionCheckView> {
  const resolved = await connections(ctx).resolve(team, name);
  const result = await checkConnection(resolved);
  return { ok: result.ok, message: await ctx.secrets.redact(result.message), elapsed_ms: result.elapsedMs };
}
