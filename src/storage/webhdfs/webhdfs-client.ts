/**
 * The WebHDFS REST client under the `webhdfs` volume: requests to the namenode (JSON answers, no
 * redirects), and the two-step operations (OPEN, CREATE) whose data goes to a datanode the
 * namenode names. Bodies stream in both directions; nothing is buffered whole except the
 * namenode's small JSON answers (at most MAX_JSON_BYTES).
 *
 * A namenode's answer is not trusted to send Capstan anywhere: the datanode address it gives is
 * followed only when it uses the namenode's scheme, carries no user info, names the namenode's
 * host or one of the volume's `datanode_hosts`, and is a WebHDFS request for the same path and
 * operation that was asked. Anything else is refused before a connection is made, and a datanode's
 * own redirects are never followed.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StorageError } from "../storage-error.js";
import { showPath } from "../storage-path.js";

/** Largest JSON answer read from a namenode (a LISTSTATUS_BATCH page of 1,000 entries is about 300 KB). */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** How to reach a WebHDFS namenode and who to be there. */
export interface WebHdfsClientOptions {
  /** The namenode's HTTP(S) address, e.g. http://namenode:9870. */
  url: string;
  /** `user.name` of simple authentication; unused when a delegation token is given. */
  user?: string;
  /** A delegation token (from the team's secrets), fetched before each request. */
  delegationToken?: () => Promise<string | undefined>;
  /** Hosts besides the namenode's that its redirects may name: exact names or "*.suffix". */
  datanodeHosts?: readonly string[];
  /** Idle time before a request is given up (default 30 s). */
  timeoutMs?: number;
}

/** One entry of GETFILESTATUS or LISTSTATUS. */
export interface HdfsFileStatus {
  pathSuffix: string;
  type: "FILE" | "DIRECTORY" | "SYMLINK";
  length: number;
  modificationTime: number;
  childrenNum?: number;
}

/** Query parameters of one request. */
export type Params = Record<string, string | number | boolean | undefined>;

export class WebHdfsClient {
  private readonly base: URL;
  private readonly allowedHosts: readonly string[];
  private readonly timeoutMs: number;

  constructor(private readonly options: WebHdfsClientOptions) {
    const base = new URL(options.url);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new StorageError("invalid_argument", `the WebHDFS url must be http:// or https://; got ${options.url}`);
    if (base.username !== "" || base.password !== "") throw new StorageError("invalid_argument", "the WebHDFS url may not carry a user name or password; use user or a delegation token");
    this.base = base;
    this.allowedHosts = [base.hostname.toLowerCase(), ...(options.datanodeHosts ?? []).map((host) => host.toLowerCase())];
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** A namenode request answered with JSON (GETFILESTATUS, LISTSTATUS_BATCH, MKDIRS, RENAME, DELETE). */
  async json<T>(method: "GET" | "PUT" | "DELETE", absPath: string, op: string, params: Params, canonical: string): Promise<T> {
    const response = await this.send(method, await this.url(absPath, op, params), canonical);
    if (response.statusCode !== undefined && response.statusCode >= 300 && response.statusCode < 400) {
      response.resume();
      throw new StorageError("backend", `the namenode answered ${op} for ${showPath(canonical)} with a redirect (${response.statusCode}); only OPEN and CREATE go to a datanode`, canonical);
    }
    const body = await readJson(response, canonical);
    if (response.statusCode !== 200) throw remoteError(body, response.statusCode, op, canonical);
    return body as T;
  }

  /** Opens `length` bytes of a file from `offset`: the namenode names a datanode, which streams them. */
  async open(absPath: string, offset: number, length: number, canonical: string): Promise<IncomingMessage> {
    const target = await this.datanodeUrl("GET", absPath, "OPEN", { offset, length }, canonical);
    const response = await this.send("GET", target, canonical);
    if (response.statusCode !== 200) throw remoteError(await readJson(response, canonical), response.statusCode, "OPEN", canonical);
    return response;
  }

  /** Streams `body` into a new file at `absPath` (CREATE through the datanode the namenode names). */
  async create(absPath: string, body: Readable | AsyncIterable<Uint8Array>, canonical: string): Promise<void> {
    const target = await this.datanodeUrl("PUT", absPath, "CREATE", { overwrite: false, createparent: true }, canonical);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = this.request("PUT", target, { "content-type": "application/octet-stream", "transfer-encoding": "chunked" });
      outgoing.once("response", resolve);
      outgoing.once("error", (error) => reject(unreachable(error, canonical)));
      pipeline(body, outgoing).catch((error: unknown) => {
        outgoing.destroy();
        reject(error instanceof StorageError ? error : new StorageError("backend", `the upload of ${showPath(canonical)} failed: ${String(error instanceof Error ? error.message : error)}`, canonical, { cause: error }));
      });
    });
    const answer = await readJson(response, canonical);
    if (response.statusCode !== 201 && response.statusCode !== 200) throw remoteError(answer, response.statusCode, "CREATE", canonical);
  }

  /** The namenode URL of an operation, with the caller's identity. */
  private async url(absPath: string, op: string, params: Params): Promise<URL> {
    const url = new URL(this.base.href);
    const prefix = url.pathname.replace(/\/+$/, "");
    url.pathname = `${prefix}/webhdfs/v1${encodeHdfsPath(absPath)}`;
    url.search = "";
    url.searchParams.set("op", op);
    for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, String(value));
    const token = await this.options.delegationToken?.();
    if (token !== undefined && token !== "") url.searchParams.set("delegation", token);
    else if (this.options.user !== undefined) url.searchParams.set("user.name", this.options.user);
    return url;
  }

  /** Asks the namenode where a two-step operation goes, and checks the answer before using it. */
  private async datanodeUrl(method: "GET" | "PUT", absPath: string, op: string, params: Params, canonical: string): Promise<URL> {
    const response = await this.send(method, await this.url(absPath, op, { ...params, noredirect: true }), canonical);
    let location: string | undefined;
    if (response.statusCode === 307 || response.statusCode === 302 || response.statusCode === 303 || response.statusCode === 301 || response.statusCode === 308) {
      response.resume();
      location = response.headers.location;
    } else {
      const body = await readJson(response, canonical);
      if (response.statusCode !== 200) throw remoteError(body, response.statusCode, op, canonical);
      const named = (body as { Location?: unknown } | undefined)?.Location;
      if (typeof named === "string") location = named;
    }
    if (location === undefined) throw new StorageError("backend", `the namenode named no datanode for ${op} of ${showPath(canonical)}`, canonical);
    return this.checkedRedirect(location, absPath, op, canonical);
  }

  /** The datanode URL if it is one Capstan may follow (see the file comment); a StorageError otherwise. */
  checkedRedirect(location: string, absPath: string, op: string, canonical: string): URL {
    const refuse = (why: string): never => {
      throw new StorageError("backend", `the namenode sent ${op} of ${showPath(canonical)} to ${JSON.stringify(withoutQuery(location).slice(0, 200))}, which is not followed: ${why}`, canonical);
    };
    let target: URL;
    try {
      target = new URL(location, this.base);
    } catch {
      return refuse("not a URL");
    }
    if (target.protocol !== this.base.protocol) refuse(`it uses ${target.protocol.slice(0, -1)}, the namenode ${this.base.protocol.slice(0, -1)}`);
    if (target.username !== "" || target.password !== "") refuse("it carries a user name or password");
    const host = target.hostname.toLowerCase();
    if (!this.allowedHosts.some((allowed) => (allowed.startsWith("*.") ? host.endsWith(allowed.slice(1)) && host.length > allowed.length - 1 : host === allowed)))
      refuse(`its host is neither the namenode's nor one of the volume's datanode_hosts (${this.allowedHosts.slice(1).join(", ") || "none"})`);
    const expectedPath = `/webhdfs/v1${encodeHdfsPath(absPath)}`;
    if (safeDecode(target.pathname) !== safeDecode(expectedPath)) refuse(`it is not the WebHDFS path of ${showPath(canonical)}`);
    if (target.searchParams.get("op") !== op) refuse(`it is not a ${op} request`);
    return target;
  }

  private async send(method: string, url: URL, canonical: string): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = this.request(method, url, {});
      outgoing.once("response", resolve);
      outgoing.once("error", (error) => reject(unreachable(error, canonical)));
      outgoing.end();
    });
  }

  private request(method: string, url: URL, headers: Record<string, string>): ReturnType<typeof httpRequest> {
    const make = url.protocol === "https:" ? httpsRequest : httpRequest;
    const outgoing = make(url, { method, headers: { accept: "application/json", ...headers } });
    outgoing.setTimeout(this.timeoutMs, () => outgoing.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
    return outgoing;
  }
}

/** An absolute HDFS path with each segment percent-encoded ("/" kept). */
export function encodeHdfsPath(absPath: string): string {
  return absPath.split("/").map(encodeURIComponent).join("/");
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

async function readJson(response: IncomingMessage, canonical: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) {
      response.destroy();
      throw new StorageError("backend", `the WebHDFS answer about ${showPath(canonical)} is over ${MAX_JSON_BYTES / 1024 / 1024} MiB`, canonical);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A proxy's or servlet's HTML page: told by status only, never echoed.
    return { notJson: true };
  }
}

const EXCEPTION_CODES: Record<string, "not_found" | "exists" | "wrong_type" | "no_space" | "invalid_range"> = {
  FileNotFoundException: "not_found",
  FileAlreadyExistsException: "exists",
  ParentNotDirectoryException: "wrong_type",
  PathIsNotDirectoryException: "wrong_type",
  DSQuotaExceededException: "no_space",
  NSQuotaExceededException: "no_space",
  QuotaExceededException: "no_space",
  EOFException: "invalid_range",
};

/** A StorageError from a WebHDFS RemoteException answer (or a bare status). */
function remoteError(body: unknown, status: number | undefined, op: string, canonical: string): StorageError {
  const remote = (body as { RemoteException?: { exception?: unknown; message?: unknown } } | undefined)?.RemoteException;
  const exception = typeof remote?.exception === "string" ? remote.exception : undefined;
  const message = typeof remote?.message === "string" ? remote.message.slice(0, 500) : undefined;
  // HDFS answers a path under a file with AccessControlException "/a.txt (is not a directory)".
  const underFile = exception === "AccessControlException" && message?.endsWith("(is not a directory)") === true;
  const code = underFile ? "wrong_type" : exception === undefined ? (status === 404 ? "not_found" : undefined) : EXCEPTION_CODES[exception];
  const shown = showPath(canonical);
  if (code === "not_found") return new StorageError("not_found", `${shown} does not exist`, canonical);
  if (code === "exists") return new StorageError("exists", `${shown} already exists`, canonical);
  if (code === "wrong_type") return new StorageError("wrong_type", `a part of ${shown} is a file, not a folder`, canonical);
  if (code === "no_space") return new StorageError("no_space", `HDFS refused ${shown}: quota reached (${exception ?? ""})`, canonical);
  if (code === "invalid_range") return new StorageError("invalid_range", `the range is outside ${shown}`, canonical);
  if (exception !== undefined) return new StorageError("backend", `HDFS refused ${op} of ${shown}: ${exception}${message === undefined ? "" : `: ${message}`}`, canonical);
  return new StorageError("backend", `the WebHDFS server answered ${op} of ${shown} with status ${String(status)}`, canonical);
}

function unreachable(error: unknown, canonical: string): StorageError {
  if (error instanceof StorageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StorageError("backend", `the WebHDFS server could not be reached for ${showPath(canonical)}: ${message}`, canonical, { cause: error });
}

/** A redirect's URL without its query, which may carry a delegation token, for error messages. */
function withoutQuery(location: string): string {
  const cut = location.search(/[?#]/);
  return cut === -1 ? location : `${location.slice(0, cut)}?…`;
}
