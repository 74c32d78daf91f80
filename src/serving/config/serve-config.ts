/**
 * The configuration of `capstan serve`, from TorchServe's start flags over `config.properties`
 * (`--ts-config`) over defaults. Keys read: inference_address, management_address,
 * metrics_address, model_store, load_models, default_workers_per_model, disable_token_authorization,
 * enable_model_api, job_queue_size, default_response_timeout, default_startup_timeout,
 * number_of_gpu, allowed_urls, max_request_size, token_expiration_min, enable_metrics_api, and
 * Capstan's own inference_key_file (a fixed inference key, as deployments' replicas share one).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { parseJavaProperties } from "./java-properties.js";

/** A listening address: host and port (http only). */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Everything the model server runs with. */
export interface ServeConfig {
  inference: ListenAddress;
  management: ListenAddress;
  metrics: ListenAddress;
  modelStore: string | undefined;
  /** `all`, or entries `NAME=FILE` / `FILE` */
  loadModels: string[];
  defaultWorkersPerModel: number;
  tokenAuth: boolean;
  enableModelApi: boolean;
  enableMetricsApi: boolean;
  jobQueueSize: number;
  defaultResponseTimeoutS: number;
  defaultStartupTimeoutS: number;
  numberOfGpu: number;
  allowedUrls: string[];
  maxRequestSize: number;
  tokenExpirationMin: number;
  /** where key_file.json is written (the working folder, as TorchServe does) */
  keyFile: string;
  /** The inference key read from inference_key_file (it does not expire); undefined: a random key as TorchServe's */
  inferenceKey: string | undefined;
  python: string;
}

/** TorchServe's start flags as `capstan serve` takes them. */
export interface ServeFlags {
  modelStore?: string | undefined;
  models?: string[] | undefined;
  tsConfig?: string | undefined;
  disableTokenAuth?: boolean | undefined;
}

/** A config problem the user must fix; says which key or flag. */
export class ServeConfigError extends Error {
  override readonly name = "ServeConfigError";
}

/** Builds the configuration; `cwd` anchors relative paths and key_file.json. */
export function loadServeConfig(flags: ServeFlags, python: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const configPath = flags.tsConfig ?? env["TS_CONFIG_FILE"];
  let props = new Map<string, string>();
  if (configPath) {
    const path = resolve(cwd, configPath);
    if (!existsSync(path)) throw new ServeConfigError(`--ts-config ${configPath}: no such file`);
    props = parseJavaProperties(readFileSync(path, "utf8"));
  }
  const text = (key: string): string | undefined => props.get(key)?.trim() || undefined;
  const number = (key: string, fallback: number): number => {
    const value = text(key);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) throw new ServeConfigError(`${key}=${value} in ${configPath}: expected a whole number`);
    return Number(value);
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = text(key)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value !== "true" && value !== "false") throw new ServeConfigError(`${key}=${value} in ${configPath}: expected true or false`);
    return value === "true";
  };
  const numberOfGpu = number("number_of_gpu", detectGpus());
  const modelStore = flags.modelStore ?? text("model_store");
  const models = flags.models?.length ? flags.models : (text("load_models")?.split(",").map((s) => s.trim()).filter(Boolean) ?? []);
  return {
    inference: parseAddress("inference_address", text("inference_address") ?? "http://127.0.0.1:8080"),
    management: parseAddress("management_address", text("management_address") ?? "http://127.0.0.1:8081"),
    metrics: parseAddress("metrics_address", text("metrics_address") ?? "http://127.0.0.1:8082"),
    modelStore: modelStore ? resolve(cwd, modelStore) : undefined,
    loadModels: models,
    defaultWorkersPerModel: number("default_workers_per_model", numberOfGpu > 0 ? numberOfGpu : availableParallelism()),
    tokenAuth: !(flags.disableTokenAuth || bool("disable_token_authorization", false)),
    enableModelApi: bool("enable_model_api", false),
    enableMetricsApi: bool("enable_metrics_api", true),
    jobQueueSize: number("job_queue_size", 100),
    defaultResponseTimeoutS: number("default_response_timeout", 120),
    defaultStartupTimeoutS: number("default_startup_timeout", 120),
    numberOfGpu,
    allowedUrls: text("allowed_urls")?.split(",").map((s) => s.trim()).filter(Boolean) ?? [],
    maxRequestSize: number("max_request_size", 6_553_500),
    tokenExpirationMin: number("token_expiration_min", 60),
    keyFile: resolve(cwd, "key_file.json"),
    inferenceKey: readInferenceKey(text("inference_key_file"), configPath, cwd),
    python,
  };
}

/** The key in `file` (one line of 16–200 URL-safe characters); throws naming the key and the file. */
function readInferenceKey(file: string | undefined, configPath: string | undefined, cwd: string): string | undefined {
  if (file === undefined) return undefined;
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new ServeConfigError(`inference_key_file=${file} in ${configPath}: no such file`);
  const key = readFileSync(path, "utf8").trim();
  if (!/^[A-Za-z0-9_-]{16,200}$/.test(key)) throw new ServeConfigError(`inference_key_file=${file} in ${configPath}: expected one line of 16 to 200 letters, digits, '-' or '_'`);
  return key;
}

function parseAddress(key: string, value: string): ListenAddress {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ServeConfigError(`${key}=${value}: expected an address like http://127.0.0.1:8080`);
  }
  if (url.protocol !== "http:") throw new ServeConfigError(`${key}=${value}: only http addresses are supported (put TLS in front of capstan serve)`);
  const port = url.port === "" ? 80 : Number(url.port);
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

function detectGpus(): number {
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=index", "--format=csv,noheader"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
    return out.split("\n").filter((l) => l.trim() !== "").length;
  } catch {
    return 0;
  }
}
