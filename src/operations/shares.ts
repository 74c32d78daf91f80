/**
 * Share links of volume files and folders: made by a team's editors, listed by their owner (admins:
 * all), revoked by the owner or an admin of the team (effective on the next request), and opened
 * without a platform session. An expired or revoked link is refused at once; a password, when set,
 * is needed on every path (listing, file, Range, zip), given as the unlock cookie or a header; a
 * folder share reaches only what is inside its folder.
 */
import { z } from "zod";
import { hashPassword, passwordProblem, verifyPassword } from "../auth/index.js";
import { CapstanError } from "../errors/index.js";
import { newShareId, SHARE_ID_PATTERN, shareExpiry, UNLOCK_LIFETIME_MS, unlockToken, validUnlockToken } from "../shares/index.js";
import { normalizePath, StorageError, type Storage } from "../storage/index.js";
import type { StoredShare } from "../store/index.js";
import type { OperationsContext, Viewer } from "./context.js";
import { volumeFor, type VolumesContext } from "./storage.js";

const isoTime = z.string().describe("An ISO 8601 time (UTC)");

export const ShareViewSchema = z
  .object({
    id: z.string().describe("≥ 128 random bits, base64url"),
    url: z.string().describe("The public page of the link (/s/:id)"),
    owner: z.string(),
    volume: z.string(),
    path: z.string(),
    type: z.enum(["file", "folder"]),
    createdAt: isoTime,
    expiresAt: isoTime.nullable(),
    revokedAt: isoTime.nullable(),
    passwordProtected: z.boolean(),
    downloads: z.int().min(0),
  })
  .meta({ id: "Share" });
export type ShareView = z.infer<typeof ShareViewSchema>;

export const CreateShareRequestSchema = z.strictObject({
  volume: z.string().min(1).max(100),
  path: z.string().max(8192).describe('The file or folder to share ("" or "/": the whole volume)'),
  expiresIn: z.union([z.string().max(32), z.number().positive()]).optional().describe('"24h", "7d", or seconds; default 7d, at most 365d'),
  password: z.string().max(256).optional().describe("At least 10 characters; needed on every download path"),
});
export type CreateShareRequest = z.infer<typeof CreateShareRequestSchema>;

export const PublicShareSchema = z
  .object({
    name: z.string().describe("The shared file's or folder's name"),
    type: z.enum(["file", "folder"]),
    size: z.number().int().min(0).optional().describe("Bytes of a shared file (once unlocked)"),
    expiresAt: isoTime.nullable(),
    passwordRequired: z.boolean(),
    unlocked: z.boolean().describe("This request may read the share (no password, or the unlock cookie or header was given)"),
  })
  .meta({ id: "PublicShare" });
export type PublicShare = z.infer<typeof PublicShareSchema>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function shareView(share: StoredShare, origin: string): ShareView {
  return {
    id: share.id,
    url: `${origin}/s/${share.id}`,
    owner: share.owner,
    volume: share.volume,
    path: share.path,
    type: share.type,
    createdAt: new Date(share.createdAt).toISOString(),
    expiresAt: iso(share.expiresAt),
    revokedAt: iso(share.revokedAt),
    passwordProtected: share.passwordHash !== null,
    downloads: share.downloads,
  };
}

/** Makes a link to a file or folder of a volume the caller edits; `origin` makes its URL. */
export async function createShare(ctx: VolumesContext, viewer: Viewer, request: CreateShareRequest, origin: string, now: number): Promise<ShareView> {
  const volume = volumeFor(ctx, viewer, request.volume, "read");
  if (volume.kind === "home" || volume.kind === "runs")
    throw new CapstanError("invalid", "share_not_offered", `volume ${volume.name} cannot be shared by link: links are for team volumes; copy the files to one of your team's volumes and share them there`, { details: { field: "volume" } });
  if (!viewer.canEdit(volume.team))
    throw new CapstanError("forbidden", "forbidden", `${viewer.username ?? "this caller"} cannot share files of volume ${volume.name}: editors and admins of team ${volume.team} can`);
  const entry = await volume.storage.stat(request.path === "/" ? "" : request.path);
  const expiresAt = shareExpiry(request.expiresIn, now);
  let passwordHash: string | null = null;
  if (request.password !== undefined) {
    const problem = passwordProblem(request.password);
    if (problem !== undefined) throw new CapstanError("invalid", "invalid_password", `password: ${problem}`, { details: { field: "password" } });
    passwordHash = await hashPassword(request.password);
  }
  const share: StoredShare = {
    id: newShareId(),
    owner: viewer.username ?? "local",
    team: volume.team,
    volume: volume.name,
    path: entry.path,
    type: entry.type,
    passwordHash,
    createdAt: now,
    expiresAt,
    revokedAt: null,
    downloads: 0,
  };
  await ctx.store.shares.insert(share);
  return shareView(share, origin);
}

/** The caller's shares, newest first; `all` (admins only) lists everyone's. */
export async function listShares(ctx: Pick<OperationsContext, "store">, viewer: Viewer, all: boolean, origin: string): Promise<ShareView[]> {
  if (all && !viewer.isAdmin) throw new CapstanError("forbidden", "forbidden", "only admins can list every user's shares (all=true); leave it out to list yours");
  const rows = await ctx.store.shares.list(all ? {} : { owner: viewer.username ?? "local" });
  return rows.map((row) => shareView(row, origin));
}

/** Revokes a share (its owner, an admin of its team, or a platform admin); others get not_found. */
export async function revokeShare(ctx: Pick<OperationsContext, "store">, viewer: Viewer & { canManage?(team: string): boolean }, id: string, now: number): Promise<void> {
  const share = SHARE_ID_PATTERN.test(id) ? await ctx.store.shares.get(id) : undefined;
  const mine = share !== undefined && share.owner === (viewer.username ?? "local");
  if (share === undefined || !(mine || viewer.isAdmin || viewer.canManage?.(share.team) === true)) throw noShare(id);
  await ctx.store.shares.revoke(id, now);
}

function noShare(id: string): CapstanError {
  return new CapstanError("not_found", "not_found", `no share link ${JSON.stringify(id)}`);
}

/** How a public request proves it knows the password: the unlock cookie, or the password in a header. */
export interface ShareCredentials {
  unlockCookie?: string | undefined;
  password?: string | undefined;
}

/** A share opened by its id, and the storage and canonical path it serves. */
export interface OpenShare {
  share: StoredShare;
  storage: Storage;
}

/** The live share `id`: unknown, revoked, expired, or on a volume no longer there are all refused. */
export async function openShare(ctx: Pick<OperationsContext, "volumes" | "store">, id: string, now: number): Promise<OpenShare> {
  const share = SHARE_ID_PATTERN.test(id) ? await ctx.store.shares.get(id) : undefined;
  if (share === undefined) throw noShare(id);
  if (share.revokedAt !== null) throw new CapstanError("not_found", "share_revoked", "this share link was revoked by its owner");
  if (share.expiresAt !== null && share.expiresAt <= now) throw new CapstanError("not_found", "share_expired", `this share link expired at ${new Date(share.expiresAt).toISOString()}`);
  const volume = ctx.volumes.visible((team) => team === share.team).find((v) => v.name === share.volume);
  if (volume === undefined) throw new CapstanError("not_found", "share_volume_gone", "the volume of this share link is no longer configured");
  return { share, storage: volume.storage };
}

/** True when the request may read the share: it has no password, or the cookie or header proves it. */
export async function shareUnlocked(share: StoredShare, credentials: ShareCredentials, now: number): Promise<boolean> {
  if (share.passwordHash === null) return true;
  if (credentials.unlockCookie !== undefined && validUnlockToken(credentials.unlockCookie, share.id, share.passwordHash, now)) return true;
  if (credentials.password !== undefined) return verifyPassword(credentials.password, share.passwordHash);
  return false;
}

/** The open share when the request may read it; a password-protected one refuses without the right proof. */
export async function readShare(ctx: Pick<OperationsContext, "volumes" | "store">, id: string, credentials: ShareCredentials, now: number): Promise<OpenShare> {
  const open = await openShare(ctx, id, now);
  if (!(await shareUnlocked(open.share, credentials, now))) {
    const wrong = credentials.password !== undefined || credentials.unlockCookie !== undefined;
    throw new CapstanError(
      "forbidden",
      wrong ? "share_password_wrong" : "share_password_required",
      wrong ? "the password of this share link is wrong, or the unlock has expired; unlock it again" : "this share link needs its password: POST it to /unlock, or send it in X-Capstan-Share-Password",
    );
  }
  return open;
}

/**
 * The volume path `sub` names inside the share: for a folder share, a path relative to the folder
 * (checked like every volume path, so `..` and its encodings cannot leave it); a file share has only "".
 */
export function sharedPath(share: StoredShare, sub: string | undefined): string {
  const relative = normalizePath(sub === undefined || sub === "/" ? "" : sub);
  if (share.type === "file") {
    if (relative !== "") throw new StorageError("invalid_path", "this link shares one file; it has no paths inside it", relative);
    return share.path;
  }
  return relative === "" ? share.path : share.path === "" ? relative : `${share.path}/${relative}`;
}

/** The path shown to the link's visitor: relative to the shared folder. */
export function pathInShare(share: StoredShare, volumePath: string): string {
  if (share.type === "file") return "";
  return share.path === "" ? volumePath : volumePath.slice(share.path.length + 1);
}

/** What the public page shows about a share; the size only once unlocked. */
export async function publicShare(ctx: Pick<OperationsContext, "volumes" | "store">, id: string, credentials: ShareCredentials, now: number): Promise<PublicShare> {
  const { share, storage } = await openShare(ctx, id, now);
  const unlocked = await shareUnlocked(share, credentials, now);
  const name = share.path === "" ? share.volume : share.path.slice(share.path.lastIndexOf("/") + 1);
  const size = unlocked && share.type === "file" ? (await storage.stat(share.path)).size : undefined;
  return { name, type: share.type, ...(size === undefined ? {} : { size }), expiresAt: iso(share.expiresAt), passwordRequired: share.passwordHash !== null, unlocked };
}

/** Checks the password and returns the unlock cookie's value and when it ends. */
export async function unlockShare(ctx: Pick<OperationsContext, "volumes" | "store">, id: string, password: string, now: number): Promise<{ token: string; expiresAt: number } | undefined> {
  const { share } = await readShare(ctx, id, { password }, now);
  if (share.passwordHash === null) return undefined;
  const expiresAt = Math.min(now + UNLOCK_LIFETIME_MS, share.expiresAt ?? Number.MAX_SAFE_INTEGER);
  return { token: unlockToken(share.id, share.passwordHash, expiresAt), expiresAt };
}

/** Counts one download of the share. */
export async function countShareDownload(ctx: Pick<OperationsContext, "store">, id: string): Promise<void> {
  await ctx.store.shares.countDownload(id);
}
