/**
 * Where a register call's `url=` may point. A plain name or path must lie inside the model store
 * (after following links); `..` is refused outright. `file://` and `http(s)://` URLs are accepted
 * only when they match one of `allowed_urls` (regular expressions, as TorchServe's), and Capstan's
 * default allows none: TorchServe's default (`file://.*|http(s)?://.*`) lets anyone with the
 * management key read any archive on the machine or fetch one from the network.
 */
import { existsSync, realpathSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { internal, modelNotFound, ServingError } from "../errors.js";

/** How URLs are judged. */
export interface ModelUrlOptions {
  modelStore: string | undefined;
  /** regular expressions a file:// or http(s):// URL must match entirely */
  allowedUrls: readonly string[];
  /** the largest archive fetched over HTTP */
  maxDownloadBytes?: number;
}

/** Resolves `url` to a local file or folder, downloading an allowed remote archive into the store. */
export async function resolveModelUrl(url: string, options: ModelUrlOptions): Promise<string> {
  if (!options.modelStore) throw modelNotFound("No model store is configured (--model-store or model_store).");
  if (url === "") throw modelNotFound("The url parameter is empty.");
  if (url.includes("..")) throw modelNotFound(`Relative paths (..) are not allowed in url: ${url}`);
  if (url.includes("\0")) throw modelNotFound("url holds a NUL byte.");
  const store = realpathSync(options.modelStore);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!options.allowedUrls.some((pattern) => new RegExp(`^(?:${pattern})$`, "i").test(url))) {
      throw modelNotFound(`The url ${url} matches none of allowed_urls; archives are taken from the model store unless allowed_urls names other places.`);
    }
    if (scheme === "file") return existingPath(fileURLToPath(url), url);
    if (scheme === "http" || scheme === "https") return download(url, store, options.maxDownloadBytes ?? 4 * 1024 ** 3);
    throw modelNotFound(`URL scheme ${scheme} is not supported.`);
  }
  const candidate = isAbsolute(url) ? url : join(store, url);
  const real = existingPath(candidate, url);
  const inside = relative(store, real);
  if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) {
    throw modelNotFound(`Model ${url} is not in the model store.`);
  }
  return real;
}

function existingPath(path: string, url: string): string {
  if (!existsSync(path)) throw modelNotFound(`Model not found in the model store: ${url}`);
  return realpathSync(path);
}

async function download(url: string, store: string, maxBytes: number): Promise<string> {
  const name = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "");
  if (!name || name.includes("/") || name.startsWith(".")) throw modelNotFound(`Cannot name a file after url ${url}.`);
  const target = resolve(store, name);
  if (existsSync(target)) throw internal(`Model file already exists in the model store: ${name}`);
  const response = await fetch(url, { redirect: "error" }).catch((error: unknown) => {
    throw modelNotFound(`Failed to download archive from ${url}: ${(error as Error).message}`);
  });
  if (!response.ok) throw new ServingError(400, "DownloadArchiveException", `Failed to download archive from ${url}: HTTP ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > maxBytes) throw modelNotFound(`The archive at ${url} is larger than ${maxBytes} bytes.`);
  writeFileSync(target, bytes, { flag: "wx", mode: 0o600 });
  return target;
}
