/**
 * `capstan storage cp`: a file or (with -r) a folder from this machine to a volume, from a volume to
 * this machine, or between volumes. Like cp, a target that is an existing folder (or ends in "/")
 * receives the source under its own name. Downloads go to NAME.capstan-part first and are renamed
 * when complete; a later cp of the same file goes on from that part with a Range request.
 */
import { createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ClientError } from "../errors.js";
import { AnswerError, isNotFound } from "./http-request.js";
import { joinVolumePath, lastName, type LocalLocation, type Location, type VolumeLocation } from "./location.js";
import type { StorageClient } from "./storage-client.js";
import type { EntryView } from "./storage-views.js";
import type { TransferProgress } from "./transfer-progress.js";

export interface CopyOptions {
  recursive: boolean;
  overwrite: boolean;
  progress: TransferProgress;
}

/** One file or folder that a copy wrote. */
export interface CopiedEntry {
  from: string;
  to: string;
  type: "file" | "folder";
  size: number;
}

const PART_SUFFIX = ".capstan-part";

/** Copies `source` to `target`; answers what was written, files and folders, in order. */
export async function copyEntries(storage: StorageClient, source: Location, target: Location, options: CopyOptions): Promise<CopiedEntry[]> {
  const done: CopiedEntry[] = [];
  if (source.kind === "local" && target.kind === "local") throw new ClientError(`both ${JSON.stringify(source.text)} and ${JSON.stringify(target.text)} are local paths; one side must be a volume, written VOLUME:PATH`, 2);
  if (source.kind === "local" && target.kind === "volume") await uploadTree(storage, source, target, options, done);
  else if (source.kind === "volume" && target.kind === "local") await downloadTree(storage, source, target, options, done);
  else if (source.kind === "volume" && target.kind === "volume") await copyBetweenVolumes(storage, source, target, options, done);
  return done;
}

// ------------------------------------------------------------------ this machine → volume

async function uploadTree(storage: StorageClient, source: LocalLocation, target: VolumeLocation, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  const info = await lstat(source.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new ClientError(`no local file or folder ${JSON.stringify(source.text)} (a file on a volume is written VOLUME:PATH, such as team-data:raw/data.csv)`, 2);
    throw new ClientError(`cannot read ${JSON.stringify(source.text)}: ${error.message}`, 2);
  });
  if (!info.isFile() && !info.isDirectory()) throw new ClientError(`${JSON.stringify(source.text)} is neither a file nor a folder`, 2);
  if (info.isDirectory() && !options.recursive) throw new ClientError(`${JSON.stringify(source.text)} is a folder; use -r to copy it and everything in it`, 2);
  const path = await volumeTarget(storage, target, lastName(source.path));
  if (info.isFile()) {
    await uploadFile(storage, source.path, info.size, target.volume, path, options, done);
    return;
  }
  await storage.mkdir(target.volume, path);
  done.push({ from: source.path, to: `${target.volume}:${path}`, type: "folder", size: 0 });
  await uploadFolder(storage, source.path, target.volume, path, options, done);
}

async function uploadFolder(storage: StorageClient, folder: string, volume: string, path: string, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  const children = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const child of children) {
    const local = join(folder, child.name);
    const remote = joinVolumePath(path, child.name);
    if (child.isDirectory()) {
      await storage.mkdir(volume, remote);
      done.push({ from: local, to: `${volume}:${remote}`, type: "folder", size: 0 });
      await uploadFolder(storage, local, volume, remote, options, done);
    } else if (child.isFile()) {
      await uploadFile(storage, local, (await stat(local)).size, volume, remote, options, done);
    } else {
      process.stderr.write(`skipped ${local}: not a file or folder (links are not followed)\n`);
    }
  }
}

async function uploadFile(storage: StorageClient, file: string, size: number, volume: string, path: string, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  const tick = options.progress.begin(`${volume}:${path}`, size);
  const entry = await storage.upload(volume, path, { kind: "file", file, size }, { overwrite: options.overwrite, onProgress: tick }).catch(withOverwriteHint);
  tick(size);
  done.push({ from: file, to: `${volume}:${entry.path}`, type: "file", size: entry.size });
}

/** The volume path a source named `name` lands on: inside `target` when it is a folder (or the root, or ends in "/"), else `target` itself. */
async function volumeTarget(storage: StorageClient, target: VolumeLocation, name: string): Promise<string> {
  if (target.path === "" || target.path.endsWith("/")) return joinVolumePath(target.path, name);
  try {
    const entry = await storage.stat(target.volume, target.path);
    return entry.type === "folder" ? joinVolumePath(target.path, name) : target.path;
  } catch (error) {
    if (isNotFound(error) && (await volumeExists(storage, target.volume))) return target.path;
    throw error;
  }
}

/** Tells "no such volume" (whose 404 must reach the user) from "no such path on it" (a new target). */
async function volumeExists(storage: StorageClient, volume: string): Promise<boolean> {
  return (await storage.volumes()).some((v) => v.name === volume);
}

// ------------------------------------------------------------------ volume → this machine

async function downloadTree(storage: StorageClient, source: VolumeLocation, target: LocalLocation, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  const entry = await storage.stat(source.volume, source.path);
  if (entry.type === "folder" && !options.recursive) throw new ClientError(`${source.text} is a folder; use -r to copy it and everything in it`, 2);
  const name = entry.name || source.volume;
  const existing = await stat(target.path).catch(() => undefined);
  const path = existing?.isDirectory() || /[/\\]$/.test(target.path) ? join(target.path, name) : target.path;
  if (entry.type === "file") {
    await downloadFile(storage, source.volume, entry, path, options, done);
    return;
  }
  await mkdir(path, { recursive: true });
  done.push({ from: `${source.volume}:${entry.path}`, to: path, type: "folder", size: 0 });
  await downloadFolder(storage, source.volume, entry.path, path, options, done);
}

async function downloadFolder(storage: StorageClient, volume: string, folder: string, local: string, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  for await (const child of folderEntries(storage, volume, folder)) {
    const path = join(local, child.name);
    if (child.type === "folder") {
      await mkdir(path, { recursive: true });
      done.push({ from: `${volume}:${child.path}`, to: path, type: "folder", size: 0 });
      await downloadFolder(storage, volume, child.path, path, options, done);
    } else {
      await downloadFile(storage, volume, child, path, options, done);
    }
  }
}

async function downloadFile(storage: StorageClient, volume: string, entry: EntryView, path: string, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  if (!options.overwrite && (await stat(path).catch(() => undefined))) throw new ClientError(`${path} exists; pass --overwrite to replace it`, 2);
  const part = path + PART_SUFFIX;
  const held = (await stat(part).catch(() => undefined))?.size ?? 0;
  const download = await storage.download(volume, entry.path, { start: held < entry.size ? held : 0 });
  const tick = options.progress.begin(`${volume}:${entry.path}`, download.size ?? entry.size);
  let written = download.start;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      tick(written);
      callback(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(download.body), counter, createWriteStream(part, { flags: download.start > 0 ? "a" : "w" }));
  await rename(part, path);
  done.push({ from: `${volume}:${entry.path}`, to: path, type: "file", size: written });
}

// ------------------------------------------------------------------ volume → volume

async function copyBetweenVolumes(storage: StorageClient, source: VolumeLocation, target: VolumeLocation, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  const entry = await storage.stat(source.volume, source.path);
  if (entry.type === "folder" && !options.recursive) throw new ClientError(`${source.text} is a folder; use -r to copy it and everything in it`, 2);
  const path = await volumeTarget(storage, target, entry.name || source.volume);
  if (source.volume === target.volume) {
    // One volume: the server copies in place, without the bytes passing through here.
    const copied = await storage.copy(source.volume, entry.path, path, options.overwrite).catch(withOverwriteHint);
    done.push({ from: `${source.volume}:${entry.path}`, to: `${target.volume}:${copied.path}`, type: copied.type, size: copied.size });
    return;
  }
  if (entry.type === "file") {
    await streamFile(storage, source.volume, entry, target.volume, path, options, done);
    return;
  }
  await storage.mkdir(target.volume, path);
  done.push({ from: `${source.volume}:${entry.path}`, to: `${target.volume}:${path}`, type: "folder", size: 0 });
  await streamFolder(storage, source.volume, entry.path, target.volume, path, options, done);
}

async function streamFolder(storage: StorageClient, fromVolume: string, folder: string, toVolume: string, path: string, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  for await (const child of folderEntries(storage, fromVolume, folder)) {
    const to = joinVolumePath(path, child.name);
    if (child.type === "folder") {
      await storage.mkdir(toVolume, to);
      done.push({ from: `${fromVolume}:${child.path}`, to: `${toVolume}:${to}`, type: "folder", size: 0 });
      await streamFolder(storage, fromVolume, child.path, toVolume, to, options, done);
    } else {
      await streamFile(storage, fromVolume, child, toVolume, to, options, done);
    }
  }
}

async function streamFile(storage: StorageClient, fromVolume: string, entry: EntryView, toVolume: string, path: string, options: CopyOptions, done: CopiedEntry[]): Promise<void> {
  const download = await storage.download(fromVolume, entry.path);
  const tick = options.progress.begin(`${toVolume}:${path}`, download.size ?? entry.size);
  const written = await storage.upload(toVolume, path, { kind: "stream", body: download.body }, { overwrite: options.overwrite, onProgress: tick }).catch(withOverwriteHint);
  done.push({ from: `${fromVolume}:${entry.path}`, to: `${toVolume}:${written.path}`, type: "file", size: written.size });
}

/** A refusal because the target exists, with the flag that would replace it. */
function withOverwriteHint(error: unknown): never {
  if (error instanceof AnswerError && error.status === 409 && /exists/.test(error.message)) throw new ClientError(`${error.message.split(";")[0] ?? error.message}; pass --overwrite to replace it`, 2);
  throw error;
}

/** Every entry of a folder, page by page. */
export async function* folderEntries(storage: StorageClient, volume: string, path: string): AsyncGenerator<EntryView> {
  let cursor: string | undefined;
  do {
    const page = await storage.list(volume, path, { limit: 1000, ...(cursor ? { cursor } : {}) });
    yield* page.entries;
    cursor = page.nextCursor;
  } while (cursor);
}
