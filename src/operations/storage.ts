/**
 * Team volumes for both clients: list the caller's volumes, browse, read, write, make folders,
 * move, copy, delete, zip and search, with who may decided here once: a volume of a team the
 * caller cannot read is not found (as one that does not exist), the team's viewers read, its
 * editors write, and a read-only volume refuses every write. Paths are checked by src/storage.
 */
import type { Readable } from "node:stream";
import { z } from "zod";
import { ForbiddenError } from "../auth/index.js";
import { contentTypeOf, normalizePath, StorageError, zipFolder, type ListOptions, type Storage, type StorageEntry, type Volume } from "../storage/index.js";
import type { OperationsContext, Viewer } from "./context.js";
import { homeVolume, runsVolume } from "./generated-volumes.js";

export const VolumeViewSchema = z
  .object({
    name: z.string(),
    team: z.string(),
    kind: z.enum(["local", "pvc", "s3", "webhdfs", "home", "runs"]).describe("home: the caller's sandbox homes; runs: outputs of the caller's teams' runs (read-only)"),
    description: z.string().optional(),
    owner: z.string().optional().describe("The one user who sees a home volume"),
    readOnly: z.boolean().describe("Nobody writes through Capstan"),
    canWrite: z.boolean().describe("The caller may write here (an editor of the team, or the owner of a home volume, and the volume is not read-only)"),
  })
  .meta({ id: "Volume" });
export type VolumeView = z.infer<typeof VolumeViewSchema>;

export const StorageEntrySchema = z
  .object({
    name: z.string().describe('Last path segment ("" for the root)'),
    path: z.string().describe('Path from the volume\'s root, without a leading or trailing "/"'),
    type: z.enum(["file", "folder"]),
    size: z.number().int().min(0).describe("Bytes of a file; 0 for a folder"),
    modified: z.string().nullable().describe("Last modification, ISO 8601 (null where the backend keeps none, such as an S3 folder)"),
    contentType: z.string().optional().describe("Files: the content type the file is served with"),
  })
  .meta({ id: "StorageEntry" });
export type StorageEntryView = z.infer<typeof StorageEntrySchema>;

export const EntryPageSchema = z
  .object({ path: z.string(), entries: z.array(StorageEntrySchema), nextCursor: z.string().optional().describe("Pass as cursor for the next page; absent on the last") })
  .meta({ id: "StorageEntryPage" });
export type EntryPage = z.infer<typeof EntryPageSchema>;

/** What the caller wants to do with a volume. */
export type VolumeNeed = "read" | "write";

/** A path as clients send it: "" or "/" is the root; anything else is checked by src/storage. */
export function volumePath(input: string | undefined): string {
  return input === undefined || input === "/" ? "" : input;
}

/** An entry in the API's shape. */
export function entryView(entry: StorageEntry): StorageEntryView {
  return {
    name: entry.name,
    path: entry.path,
    type: entry.type,
    size: entry.size,
    modified: entry.modified === undefined ? null : new Date(entry.modified).toISOString(),
    ...(entry.type === "file" ? { contentType: contentTypeOf(entry.name) } : {}),
  };
}

function volumeView(volume: Volume, viewer: Viewer): VolumeView {
  return {
    name: volume.name,
    team: volume.team,
    kind: volume.kind,
    ...(volume.description === undefined ? {} : { description: volume.description }),
    ...(volume.owner === undefined ? {} : { owner: volume.owner }),
    readOnly: volume.readOnly,
    canWrite: !volume.readOnly && (volume.owner !== undefined ? volume.owner === viewer.username : viewer.canEdit(volume.team)),
  };
}

/** What finding a caller's volumes needs: the configured ones, and the store and home for the platform's own. */
export type VolumesContext = Pick<OperationsContext, "volumes" | "store" | "home" | "secrets">;

/** Every volume the caller sees: its teams' configured volumes (admins: all), its own home volume and the runs volume. */
function volumesOf(ctx: VolumesContext, viewer: Viewer): Volume[] {
  const home = homeVolume(ctx, viewer);
  return [...ctx.volumes.visible((team) => viewer.canRead(team)), ...(home === undefined ? [] : [home]), runsVolume(ctx, viewer)].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The volumes of the caller's teams (admins: all), its home volume and the runs volume, by name. */
export function listVolumes(ctx: VolumesContext, viewer: Viewer): VolumeView[] {
  return volumesOf(ctx, viewer).map((volume) => volumeView(volume, viewer));
}

/**
 * The volume `name` when the caller may do `need` with it: not_found when its team is not the
 * caller's (whether or not it exists) or it is another user's home, forbidden for a write to a
 * read-only volume or by a viewer.
 */
export function volumeFor(ctx: VolumesContext, viewer: Viewer, name: string, need: VolumeNeed): Volume {
  const volume = volumesOf(ctx, viewer).find((v) => v.name === name);
  if (volume === undefined) throw new StorageError("not_found", `no volume named ${JSON.stringify(name)} among your teams' volumes`);
  if (need === "write") {
    if (volume.readOnly) throw new ForbiddenError(`volume ${volume.name} is read-only: nobody writes to it through Capstan`);
    if (volume.owner === undefined && !viewer.canEdit(volume.team))
      throw new ForbiddenError(`${viewer.username ?? "this caller"} cannot write to volume ${volume.name} of team ${volume.team}; editors and admins of the team can`);
  }
  return volume;
}

function storageFor(ctx: VolumesContext, viewer: Viewer, name: string, need: VolumeNeed): Storage {
  return volumeFor(ctx, viewer, name, need).storage;
}

/** A page of a folder's entries, in name order (UTF-8 bytes, as S3 lists). */
export async function listEntries(ctx: VolumesContext, viewer: Viewer, volume: string, path: string | undefined, options: ListOptions = {}): Promise<EntryPage> {
  const storage = storageFor(ctx, viewer, volume, "read");
  const folder = volumePath(path);
  const page = await storage.list(folder, options);
  return { path: normalizePath(folder), entries: page.entries.map(entryView), ...(page.next === undefined ? {} : { nextCursor: page.next }) };
}

export async function statEntry(ctx: VolumesContext, viewer: Viewer, volume: string, path: string | undefined): Promise<StorageEntryView> {
  return entryView(await storageFor(ctx, viewer, volume, "read").stat(volumePath(path)));
}

/** The storage of a volume the caller may read, for serving a file's bytes (the server adds ranges and headers). */
export function readableStorage(ctx: VolumesContext, viewer: Viewer, volume: string): Storage {
  return storageFor(ctx, viewer, volume, "read");
}

/** Streams `body` into a file; the file appears under its name only once complete. */
export async function writeFile(
  ctx: VolumesContext,
  viewer: Viewer,
  volume: string,
  path: string | undefined,
  body: Readable | AsyncIterable<Uint8Array>,
  overwrite: boolean,
): Promise<StorageEntryView> {
  const storage = storageFor(ctx, viewer, volume, "write");
  const target = volumePath(path);
  if (target === "") throw new StorageError("invalid_path", "name the file to write, such as raw/data.csv; the volume's root is a folder", target);
  return entryView(await storage.write(target, body, { overwrite }));
}

export async function makeFolder(ctx: VolumesContext, viewer: Viewer, volume: string, path: string): Promise<StorageEntryView> {
  return entryView(await storageFor(ctx, viewer, volume, "write").mkdir(volumePath(path)));
}

/** Moves (or copies) `from` to `to`; with `overwrite`, a file at `to` is replaced (a folder there is a conflict). */
export async function moveEntry(
  ctx: VolumesContext,
  viewer: Viewer,
  volume: string,
  request: { from: string; to: string; overwrite?: boolean | undefined },
  verb: "move" | "copy",
): Promise<StorageEntryView> {
  const storage = storageFor(ctx, viewer, volume, "write");
  const from = volumePath(request.from);
  const to = volumePath(request.to);
  if (request.overwrite === true) {
    const existing = await storage.stat(to).catch((error: unknown) => {
      if (error instanceof StorageError && error.storageCode === "not_found") return undefined;
      throw error;
    });
    if (existing?.type === "folder") throw new StorageError("exists", `${JSON.stringify(existing.path)} is a folder; overwrite replaces files only, so delete the folder first`, existing.path);
    // Checked before the target goes: a source that is missing must not cost the target.
    await storage.stat(from);
    if (existing !== undefined) await storage.delete(existing.path);
  }
  return entryView(verb === "move" ? await storage.move(from, to) : await storage.copy(from, to));
}

/** Deletes a file, or a folder: an empty one, or with `recursive` everything in it. */
export async function deleteEntry(ctx: VolumesContext, viewer: Viewer, volume: string, path: string | undefined, recursive: boolean): Promise<void> {
  const storage = storageFor(ctx, viewer, volume, "write");
  const target = volumePath(path);
  if (target === "") throw new StorageError("invalid_path", "the volume's root cannot be deleted; delete what is in it", target);
  const entry = await storage.stat(target);
  if (entry.type === "folder" && !recursive && (await storage.list(entry.path, { limit: 1 })).entries.length > 0)
    throw new StorageError("exists", `folder ${JSON.stringify(entry.path)} is not empty; pass recursive=true to delete it with everything in it`, entry.path);
  await storage.delete(entry.path);
}

/** A folder (or one file) as a streaming zip, and the name to save it as ("<folder>.zip"; the volume's name for the root). */
export async function zipEntry(ctx: VolumesContext, viewer: Viewer, volume: string, path: string | undefined): Promise<{ stream: Readable; fileName: string }> {
  const storage = storageFor(ctx, viewer, volume, "read");
  const target = volumePath(path);
  const entry = await storage.stat(target);
  const stream = await zipFolder(storage, entry.path);
  return { stream, fileName: `${entry.path === "" ? volume : entry.name}.zip` };
}

/** Entries under `path` whose name contains `query`, ignoring case. */
export async function searchEntries(
  ctx: VolumesContext,
  viewer: Viewer,
  volume: string,
  path: string | undefined,
  query: string,
  limit: number | undefined,
): Promise<StorageEntryView[]> {
  const storage = storageFor(ctx, viewer, volume, "read");
  if (query.trim() === "") throw new StorageError("invalid_argument", "q is the text to look for in names; it may not be empty");
  return (await storage.search(volumePath(path), query, limit === undefined ? {} : { limit })).map(entryView);
}
