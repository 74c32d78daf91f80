/**
 * The `s3` backend: a bucket, or a prefix of one, on any S3-compatible store (AWS, Ceph RGW,
 * MinIO, versitygw). A file is the object PREFIX+path; a folder is implied by the keys under
 * "PREFIX+path/" or made by an empty marker object of that name (mkdir). Listings are
 * ListObjectsV2 pages with "/" as delimiter, in S3's key order, which the local backend copies.
 * Uploads stream through lib-storage's multipart Upload, which aborts the multipart upload on
 * failure, so an interrupted upload never leaves an object under the final key.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Readable } from "node:stream";
import { contentTypeOf } from "../content-type.js";
import { compareUtf8 } from "../name-order.js";
import type { ByteRange, ListOptions, ListPage, ReadResult, SearchOptions, Storage, StorageEntry, WriteOptions } from "../storage.js";
import { StorageError } from "../storage-error.js";
import { checkRange, listLimit, searchLimit } from "../storage-limits.js";
import { baseName, joinPath, movePair, normalizePath, pathSegments, showPath as show } from "../storage-path.js";

/** Where an S3 volume lives and how to reach it. */
export interface S3StorageOptions {
  /** The store's URL, e.g. http://127.0.0.1:7070; absent: AWS's endpoint for the region. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Key prefix of the volume inside the bucket ("" or "teams/data"). */
  prefix?: string;
  /** Address the bucket in the path (http://host/bucket/key) rather than the host name; most self-hosted stores need it. */
  forcePathStyle?: boolean;
  /** Access keys, or a function that fetches them (from the secret store); absent: the SDK's default chain (AWS_ACCESS_KEY_ID and friends). */
  credentials?: S3Credentials | (() => Promise<S3Credentials>);
  /** Bytes per multipart part (default 8 MiB, at least 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once (default 4). */
  queueSize?: number;
  /**
   * Objects larger than this are copied in parts (UploadPartCopy): S3 refuses a single CopyObject
   * over 5 GiB, the default. Lower only to exercise the multipart path with small objects.
   */
  copyPartThreshold?: number;
  /** Bytes per part of a multipart copy (default 512 MiB, at least 5 MiB; raised so no copy needs over 10,000 parts). */
  copyPartSize?: number;
}

/** The largest object one CopyObject may copy. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** The keys of an S3 account. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A volume that is a bucket prefix of an S3-compatible store. */
export class S3Storage implements Storage {
  readonly kind = "s3";
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly copyPartThreshold: number;
  private readonly copyPartSize: number;

  constructor(options: S3StorageOptions) {
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    this.bucket = options.bucket;
    const prefix = normalizePath(options.prefix ?? "");
    this.prefix = prefix === "" ? "" : `${prefix}/`;
    this.partSize = Math.max(options.partSize ?? 8 * 1024 * 1024, 5 * 1024 * 1024);
    this.queueSize = options.queueSize ?? 4;
    this.copyPartThreshold = Math.min(options.copyPartThreshold ?? MAX_SINGLE_COPY_BYTES, MAX_SINGLE_COPY_BYTES);
    this.copyPartSize = Math.max(options.copyPartSize ?? 512 * 1024 * 1024, MIN_PART_BYTES);
  }

  async list(path: string, options: ListOptions = {}): Promise<ListPage> {
    const canonical = normalizePath(path);
    const limit = listLimit(options.limit);
    const folderKey = this.folderKey(canonical);
    const output = await this.send(canonical, () =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: folderKey,
          Delimiter: "/",
          MaxKeys: limit,
          ...(options.cursor === undefined ? {} : { ContinuationToken: decodeToken(options.cursor) }),
        }),
      ),
    );
    const entries = this.pageEntries(canonical, folderKey, output);
    if (entries.length === 0 && options.cursor === undefined && canonical !== "") {
      const entry = await this.stat(canonical);
      if (entry.type === "file") throw new StorageError("wrong_type", `${show(canonical)} is a file, not a folder`, canonical);
    }
    const token = output.IsTruncated === true ? output.NextContinuationToken : undefined;
    return { entries, next: token === undefined ? undefined : Buffer.from(token, "utf8").toString("base64url") };
  }

  async stat(path: string): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    if (canonical === "") return folderEntry("");
    const head = await this.head(canonical);
    if (head !== undefined) return head;
    if (await this.hasChildren(canonical)) return folderEntry(canonical);
    throw new StorageError("not_found", `${show(canonical)} does not exist`, canonical);
  }

  async read(path: string, range?: ByteRange): Promise<ReadResult> {
    const canonical = normalizePath(path);
    const entry = await this.stat(canonical);
    if (entry.type === "folder") throw new StorageError("wrong_type", `${show(canonical)} is a folder, not a file`, canonical);
    const { start, end } = checkRange(range, entry.size, canonical);
    const contentType = contentTypeOf(entry.name);
    if (end < start) return { stream: Readable.from([]), size: 0, start, end, contentType, modified: entry.modified };
    const output = await this.send(canonical, () =>
      this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(canonical),
          ...(range === undefined ? {} : { Range: `bytes=${start}-${end}` }),
        }),
      ),
    );
    const stream = output.Body as Readable | undefined;
    if (stream === undefined) throw new StorageError("backend", `the store sent no body for ${show(canonical)}`, canonical);
    return { stream, size: entry.size, start, end, contentType, modified: entry.modified };
  }

  async write(path: string, body: Readable | AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    if (canonical === "") throw new StorageError("wrong_type", "the volume's root is a folder, not a file", canonical);
    await this.assertAncestorsAreFolders(canonical);
    const existing = await this.statOrUndefined(canonical);
    if (existing?.type === "folder") throw new StorageError("wrong_type", `${show(canonical)} is a folder, not a file`, canonical);
    if (existing !== undefined && options.overwrite !== true) throw new StorageError("exists", `${show(canonical)} already exists`, canonical);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.key(canonical),
        Body: body instanceof Readable ? body : Readable.from(body),
        ContentType: contentTypeOf(baseName(canonical)),
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    await this.send(canonical, () => upload.done());
    return this.stat(canonical);
  }

  async mkdir(path: string): Promise<StorageEntry> {
    const canonical = normalizePath(path);
    if (canonical === "") return folderEntry("");
    await this.assertAncestorsAreFolders(canonical);
    const existing = await this.statOrUndefined(canonical);
    if (existing?.type === "file") throw new StorageError("exists", `${show(canonical)} is a file, so no folder can be made there`, canonical);
    if (existing === undefined || (await this.head(`${canonical}/`, true)) === undefined)
      await this.send(canonical, () =>
        this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.folderKey(canonical), Body: new Uint8Array(0), ContentLength: 0 })),
      );
    return folderEntry(canonical);
  }

  async move(from: string, to: string): Promise<StorageEntry> {
    const [source, target] = await this.pairFor(from, to, "move");
    const keys = await this.copyKeys(source, target);
    await this.deleteKeys(source.path, keys);
    return this.stat(target.path);
  }

  async copy(from: string, to: string): Promise<StorageEntry> {
    const [source, target] = await this.pairFor(from, to, "copy");
    await this.copyKeys(source, target);
    return this.stat(target.path);
  }

  async delete(path: string): Promise<void> {
    const canonical = normalizePath(path);
    if (canonical === "") throw new StorageError("invalid_path", "the volume's root cannot be deleted; delete what is in it", canonical);
    const entry = await this.stat(canonical);
    if (entry.type === "file") {
      await this.send(canonical, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(canonical) })));
      return;
    }
    await this.deleteKeys(canonical, await this.allKeys(this.folderKey(canonical)));
  }

  async search(path: string, query: string, options: SearchOptions = {}): Promise<StorageEntry[]> {
    const canonical = normalizePath(path);
    const start = await this.stat(canonical);
    const limit = searchLimit(options.limit);
    const needle = query.toLowerCase();
    if (start.type === "file") return start.name.toLowerCase().includes(needle) ? [start] : [];
    const found: StorageEntry[] = [];
    const seenFolders = new Set<string>();
    for await (const object of this.objects(this.folderKey(canonical))) {
      const relative = this.pathOf(object.key);
      const segments = relative.split("/");
      // Folders named on the way down to this key, each once.
      for (let depth = pathSegments(canonical).length + 1; depth < segments.length; depth += 1) {
        const folder = segments.slice(0, depth).join("/");
        if (seenFolders.has(folder)) continue;
        seenFolders.add(folder);
        if (baseName(folder).toLowerCase().includes(needle)) found.push(folderEntry(folder));
      }
      if (!object.key.endsWith("/") && baseName(relative).toLowerCase().includes(needle)) found.push(fileEntry(relative, object));
      if (found.length >= limit) break;
    }
    return found.slice(0, limit);
  }

  async *walk(path: string): AsyncIterable<StorageEntry> {
    const canonical = normalizePath(path);
    const start = await this.stat(canonical);
    if (start.type === "file") {
      yield start;
      return;
    }
    let pendingFolder: string | undefined;
    for await (const object of this.objects(this.folderKey(canonical))) {
      if (pendingFolder !== undefined && !object.key.startsWith(pendingFolder)) yield folderEntry(this.pathOf(pendingFolder));
      pendingFolder = undefined;
      if (object.key.endsWith("/")) {
        if (object.key !== this.folderKey(canonical)) pendingFolder = object.key;
      } else yield fileEntry(this.pathOf(object.key), object);
    }
    if (pendingFolder !== undefined) yield folderEntry(this.pathOf(pendingFolder));
  }

  /** The object key of a canonical path. */
  private key(canonical: string): string {
    return this.prefix + canonical;
  }

  /** The key prefix of a folder's children ("" for the root of an unprefixed volume). */
  private folderKey(canonical: string): string {
    return canonical === "" ? this.prefix : `${this.prefix}${canonical}/`;
  }

  /** The canonical path of a key of this volume (a folder marker's trailing "/" dropped). */
  private pathOf(key: string): string {
    const relative = key.slice(this.prefix.length);
    return relative.endsWith("/") ? relative.slice(0, -1) : relative;
  }

  private pageEntries(canonical: string, folderKey: string, output: ListObjectsV2CommandOutput): StorageEntry[] {
    const keyed: Array<{ key: string; entry: StorageEntry }> = [];
    for (const common of output.CommonPrefixes ?? []) {
      if (common.Prefix === undefined) continue;
      const name = common.Prefix.slice(folderKey.length, -1);
      keyed.push({ key: common.Prefix, entry: folderEntry(joinPath(canonical, name)) });
    }
    for (const object of output.Contents ?? []) {
      if (object.Key === undefined || object.Key === folderKey || object.Key.endsWith("/")) continue;
      keyed.push({
        key: object.Key,
        entry: fileEntry(joinPath(canonical, object.Key.slice(folderKey.length)), { size: object.Size ?? 0, modified: object.LastModified?.getTime() }),
      });
    }
    keyed.sort((a, b) => compareUtf8(a.key, b.key));
    return keyed.map((item) => item.entry);
  }

  /** The file at `canonical` (HeadObject), or undefined when no such object. */
  private async head(canonical: string, marker = false): Promise<StorageEntry | undefined> {
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(canonical) }));
      if (marker) return folderEntry(canonical.slice(0, -1));
      return fileEntry(canonical, { size: output.ContentLength ?? 0, modified: output.LastModified?.getTime() });
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw backendError(error, canonical);
    }
  }

  private async hasChildren(canonical: string): Promise<boolean> {
    const output = await this.send(canonical, () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.folderKey(canonical), MaxKeys: 1 })),
    );
    return (output.KeyCount ?? output.Contents?.length ?? 0) > 0;
  }

  private async statOrUndefined(canonical: string): Promise<StorageEntry | undefined> {
    try {
      return await this.stat(canonical);
    } catch (error) {
      if (error instanceof StorageError && error.storageCode === "not_found") return undefined;
      throw error;
    }
  }

  /** Refuses a path under a file ("a.txt/b" where "a.txt" is a file), as a file system would. */
  private async assertAncestorsAreFolders(canonical: string): Promise<void> {
    const segments = pathSegments(canonical);
    const ancestors = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join("/"));
    const heads = await Promise.all(ancestors.map((ancestor) => this.head(ancestor)));
    const file = heads.find((head) => head !== undefined);
    if (file !== undefined) throw new StorageError("wrong_type", `${show(file.path)} is a file, so nothing can be put under it`, canonical);
  }

  private async pairFor(from: string, to: string, verb: string): Promise<[StorageEntry, StorageEntry]> {
    const [sourcePath, targetPath] = movePair(from, to, verb);
    const source = await this.stat(sourcePath);
    if ((await this.statOrUndefined(targetPath)) !== undefined) throw new StorageError("exists", `${show(targetPath)} already exists`, targetPath);
    await this.assertAncestorsAreFolders(targetPath);
    return [source, source.type === "file" ? fileEntry(targetPath, source) : folderEntry(targetPath)];
  }

  /** Copies the object or every key under the folder; returns the source keys. */
  private async copyKeys(source: StorageEntry, target: StorageEntry): Promise<string[]> {
    const pairs: Array<[string, string, number]> = [];
    if (source.type === "file") pairs.push([this.key(source.path), this.key(target.path), source.size]);
    else {
      const from = this.folderKey(source.path);
      for await (const object of this.objects(from)) pairs.push([object.key, this.folderKey(target.path) + object.key.slice(from.length), object.size]);
    }
    const queue = [...pairs];
    const worker = async (): Promise<void> => {
      for (let pair = queue.shift(); pair !== undefined; pair = queue.shift()) {
        const [from, to, size] = pair;
        if (size > this.copyPartThreshold) await this.copyInParts(from, to, size, target.path);
        else
          await this.send(target.path, () =>
            this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${encodeKey(from)}` })),
          );
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, pairs.length) }, worker));
    return pairs.map(([from]) => from);
  }

  /**
   * Copies one large object with a multipart upload whose parts are UploadPartCopy ranges of the
   * source, a few at once; on any failure the upload is aborted, so no object appears under `to`.
   */
  private async copyInParts(from: string, to: string, size: number, canonical: string): Promise<void> {
    const partSize = Math.max(this.copyPartSize, Math.ceil(size / MAX_PARTS));
    const created = await this.send(canonical, () => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to, ContentType: contentTypeOf(baseName(canonical)) })));
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new StorageError("backend", `the store started no multipart upload for ${show(canonical)}`, canonical);
    try {
      const count = Math.ceil(size / partSize);
      const parts: { PartNumber: number; ETag: string }[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let index = next++; index < count; index = next++) {
          const start = index * partSize;
          const end = Math.min(start + partSize, size) - 1;
          const output = await this.send(canonical, () =>
            this.client.send(
              new UploadPartCopyCommand({ Bucket: this.bucket, Key: to, UploadId: uploadId, PartNumber: index + 1, CopySource: `${this.bucket}/${encodeKey(from)}`, CopySourceRange: `bytes=${start}-${end}` }),
            ),
          );
          const etag = output.CopyPartResult?.ETag;
          if (etag === undefined) throw new StorageError("backend", `the store gave no ETag for part ${index + 1} of the copy to ${show(canonical)}`, canonical);
          parts.push({ PartNumber: index + 1, ETag: etag });
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.queueSize, count) }, worker));
      parts.sort((a, b) => a.PartNumber - b.PartNumber);
      await this.send(canonical, () => this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId: uploadId, MultipartUpload: { Parts: parts } })));
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  private async deleteKeys(canonical: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const output = await this.send(canonical, () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      const failed = output.Errors?.[0];
      if (failed !== undefined)
        throw new StorageError("backend", `the store did not delete ${failed.Key ?? "a key"}: ${failed.Code ?? ""} ${failed.Message ?? ""}`, canonical);
    }
  }

  private async allKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of this.objects(prefix)) keys.push(object.key);
    return keys;
  }

  /** Every object under `prefix`, at any depth, in key order. */
  private async *objects(prefix: string): AsyncGenerator<{ key: string; size: number; modified: number | undefined }> {
    let token: string | undefined;
    do {
      const output = await this.send(this.pathOf(prefix), () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token === undefined ? {} : { ContinuationToken: token }) }),
        ),
      );
      for (const object of output.Contents ?? [])
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0, modified: object.LastModified?.getTime() };
      token = output.IsTruncated === true ? output.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /** Runs one store request, turning its failures into StorageErrors about `canonical`. */
  private async send<T>(canonical: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw backendError(error, canonical);
    }
  }
}

function folderEntry(path: string): StorageEntry {
  return { name: baseName(path), path, type: "folder", size: 0, modified: undefined };
}

function fileEntry(path: string, object: { size: number; modified: number | undefined }): StorageEntry {
  return { name: baseName(path), path, type: "file", size: object.size, modified: object.modified };
}

function isMissing(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === "NotFound" || error.name === "NoSuchKey" || error.$metadata.httpStatusCode === 404);
}

function backendError(error: unknown, canonical: string): unknown {
  if (error instanceof StorageError) return error;
  if (isMissing(error)) return new StorageError("not_found", `${show(canonical)} does not exist`, canonical, { cause: error });
  if (error instanceof S3ServiceException) {
    if (error.name === "InvalidRange") return new StorageError("invalid_range", `the range is outside ${show(canonical)}`, canonical, { cause: error });
    if (error.name === "EntityTooLarge" || error.name === "QuotaExceeded" || error.$metadata.httpStatusCode === 507)
      return new StorageError("no_space", `the store refused ${show(canonical)}: no space or quota left (${error.name})`, canonical, { cause: error });
    return new StorageError("backend", `the store refused the request for ${show(canonical)}: ${error.name}: ${error.message}`, canonical, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StorageError("backend", `the store could not be reached for ${show(canonical)}: ${message}`, canonical, { cause: error });
}

function decodeToken(cursor: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new StorageError("invalid_argument", "the cursor is not one a listing returned");
  return Buffer.from(cursor, "base64url").toString("utf8");
}

/** A key for CopySource: each segment URL-encoded, "/" kept. */
function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}
