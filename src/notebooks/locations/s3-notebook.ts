/**
 * Notebooks in S3 (`s3://bucket/key`), read and written through the storage layer's S3 client as
 * papermill does through boto3. Credentials come from the AWS SDK's standard chain (the
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN variables, AWS_PROFILE and the
 * shared ~/.aws files, then instance roles); the region from AWS_REGION or AWS_DEFAULT_REGION
 * (us-east-1 when neither is set); a self-hosted store from AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or
 * papermill's BOTO3_ENDPOINT_URL, addressed path-style as boto3 does for a custom endpoint.
 * The S3 client is loaded only when an s3:// path is used, so local runs start as fast as before.
 */
import { Readable } from "node:stream";
import type { S3Storage } from "../../storage/index.js";
import { NotebookFormatError, NotebookLocationError, OutputNotWritableError } from "../errors.js";

/** The bucket and key of an `s3://` URL. */
export interface S3ObjectPath {
  bucket: string;
  key: string;
}

/** Splits `s3://bucket/key` (or `s3n://…`); a URL without a bucket or a key is refused. */
export function parseS3Url(url: string): S3ObjectPath {
  const match = /^s3n?:\/\/([^/]*)\/?(.*)$/is.exec(url);
  const bucket = match?.[1] ?? "";
  const key = match?.[2] ?? "";
  if (bucket === "" || key === "" || key.endsWith("/")) {
    throw new NotebookLocationError(url, "an s3 notebook is s3://BUCKET/KEY, such as s3://team-notebooks/reports/daily.ipynb");
  }
  return { bucket, key };
}

const clients = new Map<string, S3Storage>();

/** The S3 client for `bucket`, configured from the environment (one per bucket and process). */
async function bucketStorage(bucket: string, env: NodeJS.ProcessEnv): Promise<S3Storage> {
  const endpoint = env["AWS_ENDPOINT_URL_S3"] || env["AWS_ENDPOINT_URL"] || env["BOTO3_ENDPOINT_URL"] || undefined;
  const region = env["AWS_REGION"] || env["AWS_DEFAULT_REGION"] || "us-east-1";
  const cacheKey = `${bucket}\n${endpoint ?? ""}\n${region}`;
  let storage = clients.get(cacheKey);
  if (storage === undefined) {
    const { S3Storage } = await import("../../storage/index.js");
    storage = new S3Storage({ bucket, region, ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }) });
    clients.set(cacheKey, storage);
  }
  return storage;
}

function reason(error: unknown): string {
  const named = error as { name?: string; message?: string; code?: string } | undefined;
  if (named?.name === "StorageError" && named.message !== undefined) return named.message;
  const text = [named?.name, named?.message].filter((part) => part !== undefined && part !== "" && part !== "Error").join(": ");
  return text !== "" ? text : String(error);
}

/** The text of the notebook object at `url`. */
export async function readS3Notebook(url: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { bucket, key } = parseS3Url(url);
  try {
    const body = await (await bucketStorage(bucket, env)).read(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body.stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString("utf8");
  } catch (error) {
    throw new NotebookFormatError(url, `cannot read the input notebook: ${reason(error)}`, { cause: error });
  }
}

/** Writes `text` as the notebook object at `url`, replacing it; the object appears only complete. */
export async function writeS3Notebook(url: string, text: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { bucket, key } = parseS3Url(url);
  try {
    await (await bucketStorage(bucket, env)).write(key, Readable.from([Buffer.from(text, "utf8")]), { overwrite: true });
  } catch (error) {
    throw new OutputNotWritableError(url, { cause: new Error(reason(error), { cause: error }) });
  }
}
