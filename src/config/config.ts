/**
 * Resolving the configuration: command-line flags over environment variables over capstan.yaml over
 * defaults. Relative paths in the file are relative to the file's folder.
 */
import { CapstanError } from "../errors/index.js";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { parseCpu, parseDuration, parseMemory } from "../units/index.js";
import { configSchema, trustedProxyProblem, type ConfigFile } from "./config-schema.js";
import type { SandboxesConfigFile } from "./sandboxes-schema.js";
import type { VolumesConfigFile } from "./storage-schema.js";

/** The settings Capstan runs with. */
export interface CapstanConfig {
  home: string;
  /** Pipeline folders (files too). */
  pipelines: string[];
  /** `pipelines.git`: a branch of a repository whose pipeline files are loaded beside the folders. */
  pipelinesGit: PipelinesGitConfig | undefined;
  /** SQLite file path or postgres:// URL. */
  databaseUrl: string;
  python: string;
  defaultExecutor: "local" | "kubernetes";
  local: { parallelism?: number; cpu?: number; memory?: number; gpus?: number[]; maxLogBytes?: number; runAs?: string; isolation?: "auto" | "off" };
  killGraceMs: number;
  /** Time limit of importing one TypeScript pipeline file (pipeline_load_timeout). */
  pipelineLoadTimeoutMs: number;
  pools: Record<string, { slots: number; description?: string }>;
  server: {
    host: string;
    port: number;
    /** Proxies whose X-Forwarded-* headers are believed (server.trusted_proxies or CAPSTAN_TRUST_PROXY); empty: none. */
    trustedProxies: string[];
    loginLimits: { perAccount: number; perAddress: number; windowMs: number };
  };
  sweepIntervalMs: number;
  notebooks: { warmKernels: number; kernelspecs: string[] };
  clusters: Record<string, unknown>;
  /** The `sandboxes:` section as written (profiles and quotas are resolved by sandboxes/); its python is made absolute. */
  sandboxes: SandboxesConfigFile | undefined;
  /** The `volumes:` section as written, with the folders of local and pvc volumes made absolute (src/storage builds them). */
  volumes: VolumesConfigFile | undefined;
  /** `models.store`: per team, the volume its model versions are written to; a team not named keeps them in the home. */
  modelStores: Record<string, string>;
  /** The file the settings came from, if any. */
  file: string | null;
}

/** A git branch of pipelines, resolved from `pipelines.git`. */
export interface PipelinesGitConfig {
  url: string;
  branch: string;
  path: string;
  intervalMs: number;
  credentials: { team: string; secret: string } | undefined;
  /** The webhook's shared secret (from the environment); undefined: the webhook route refuses every call. */
  webhookSecret: string | undefined;
  checkoutDir: string;
}

/** Flags that override everything else. */
export interface ConfigOverrides {
  home?: string;
  pipelines?: string[];
  config?: string;
  databaseUrl?: string;
  port?: number;
  host?: string;
}

/** capstan.yaml is not valid; the message has file:line:col. */
export class ConfigError extends CapstanError {
  override readonly name = "ConfigError";
  constructor(message: string, options?: ErrorOptions) {
    super("invalid_file", "invalid_config", message, options);
  }
}

/** The root of this installation (the folder with package.json). */
export const INSTALL_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function readConfigFile(file: string): ConfigFile {
  const text = readFileSync(file, "utf8");
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e ? lines.linePos(e.pos[0]) : { line: 1, col: 1 };
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: YAML syntax error: ${e?.message.split("\n")[0] ?? ""}`);
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const node = (issue.code === "unrecognized_keys" ? keyNode(doc, path, issue.keys[0] ?? "") : doc.getIn(path, true)) as { range?: [number, number, number] } | undefined;
      const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
      const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
      const what = issue.code === "unrecognized_keys" ? `unknown setting ${issue.keys.join(", ")}; accepted: ${Object.keys(configSchema.shape).join(", ")}` : issue.message;
      return `${where}: ${path.join(".") || "(top)"}: ${what}`;
    });
    throw new ConfigError(messages.join("\n"));
  }
  return parsed.data;
}

/** The key node of `key` in the mapping at `path`, to point an "unknown setting" error at the key itself. */
function keyNode(doc: Document, path: string[], key: string): unknown {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === key);
  return pair?.key;
}

function defaultPython(cwd: string): string {
  for (const candidate of [join(cwd, ".venv", "bin", "python"), join(INSTALL_ROOT, ".venv", "bin", "python")]) {
    if (existsSync(candidate)) return candidate;
  }
  return "python3";
}

/**
 * CAPSTAN_TRUST_PROXY: a comma-separated list like server.trusted_proxies (it replaces the file's);
 * `1` means a proxy on this machine (loopback), `0` or empty means none.
 */
function trustProxyFromEnv(text: string): string[] {
  const value = text.trim();
  if (value === "" || value === "0") return [];
  if (value === "1") return ["loopback"];
  const entries = value.split(",").map((e) => e.trim()).filter((e) => e !== "");
  for (const entry of entries) {
    const problem = trustedProxyProblem(entry);
    if (problem) throw new ConfigError(`CAPSTAN_TRUST_PROXY: ${problem} (or 1 for a proxy on this machine, 0 for none)`);
  }
  return entries;
}

/** Resolves the configuration for a command run in `cwd`. */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CapstanConfig {
  const explicit = overrides.config ?? env.CAPSTAN_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : existsSync(join(cwd, "capstan.yaml")) ? join(cwd, "capstan.yaml") : null;
  if (explicit && !existsSync(resolve(cwd, explicit))) throw new ConfigError(`config file ${explicit} does not exist`);
  const fromFile: ConfigFile = file ? readConfigFile(file) : {};
  const base = file ? dirname(file) : cwd;
  const rel = (p: string, from: string) => resolve(from, p);

  const home = overrides.home ? rel(overrides.home, cwd) : env.CAPSTAN_HOME ? rel(env.CAPSTAN_HOME, cwd) : fromFile.home ? rel(fromFile.home, base) : join(cwd, ".capstan");
  const section = fromFile.pipelines;
  const folders = typeof section === "string" || Array.isArray(section) ? section : section?.folders;
  const pipelines = overrides.pipelines?.length
    ? overrides.pipelines.map((p) => rel(p, cwd))
    : folders !== undefined
      ? (Array.isArray(folders) ? folders : [folders]).map((p) => rel(p, base))
      : section !== undefined
        ? []
        : [join(cwd, "pipelines")];
  const git = typeof section === "object" && !Array.isArray(section) ? section.git : undefined;
  const pipelinesGit: PipelinesGitConfig | undefined = git && {
    url: git.url,
    branch: git.branch ?? "main",
    path: (git.path ?? "").replace(/^\.\/?|\/+$/g, ""),
    intervalMs: git.interval !== undefined ? (parseDuration(git.interval) ?? 60_000) : 60_000,
    credentials: git.credentials,
    webhookSecret: env[git.webhook_secret_env ?? "CAPSTAN_GIT_WEBHOOK_SECRET"] || undefined,
    checkoutDir: git.checkout_dir !== undefined ? rel(git.checkout_dir, base) : join(home, "pipelines-git"),
  };
  const database = overrides.databaseUrl ?? env.CAPSTAN_DATABASE_URL ?? fromFile.database ?? "sqlite";
  const databaseUrl = /^postgres(ql)?:\/\//.test(database) ? database : database === "sqlite" ? join(home, "capstan.db") : rel(database.replace(/^sqlite:/, ""), base);
  const python = env.CAPSTAN_PYTHON ?? (fromFile.python ? (fromFile.python.includes("/") ? rel(fromFile.python, base) : fromFile.python) : defaultPython(cwd));
  const portText = env.CAPSTAN_PORT;
  const port = overrides.port ?? (portText !== undefined && /^\d+$/.test(portText) ? Number(portText) : (fromFile.server?.port ?? 8080));
  const local = fromFile.local ?? {};
  return {
    home,
    pipelines,
    pipelinesGit,
    databaseUrl,
    python,
    defaultExecutor: fromFile.executor ?? "local",
    local: {
      ...(local.parallelism !== undefined ? { parallelism: local.parallelism } : {}),
      ...(local.cpu !== undefined ? { cpu: parseCpu(local.cpu) ?? 0 } : {}),
      ...(local.memory !== undefined ? { memory: parseMemory(local.memory) ?? 0 } : {}),
      ...(local.gpus !== undefined ? { gpus: local.gpus } : {}),
      ...(local.max_log_bytes !== undefined ? { maxLogBytes: parseMemory(local.max_log_bytes) ?? 0 } : {}),
      ...(local.run_as !== undefined ? { runAs: local.run_as } : {}),
      ...(local.isolation !== undefined ? { isolation: local.isolation } : {}),
    },
    killGraceMs: fromFile.kill_grace !== undefined ? (parseDuration(fromFile.kill_grace) ?? 10_000) : 10_000,
    pipelineLoadTimeoutMs: fromFile.pipeline_load_timeout !== undefined ? (parseDuration(fromFile.pipeline_load_timeout) ?? 10_000) : 10_000,
    pools: Object.fromEntries(Object.entries(fromFile.pools ?? {}).map(([name, p]) => [name, { slots: p.slots, ...(p.description ? { description: p.description } : {}) }])),
    server: {
      host: overrides.host ?? env.CAPSTAN_HOST ?? fromFile.server?.host ?? "127.0.0.1",
      port,
      trustedProxies: env.CAPSTAN_TRUST_PROXY !== undefined ? trustProxyFromEnv(env.CAPSTAN_TRUST_PROXY) : (fromFile.server?.trusted_proxies ?? []),
      loginLimits: {
        perAccount: fromFile.server?.login_limits?.per_account ?? 10,
        perAddress: fromFile.server?.login_limits?.per_address ?? 50,
        windowMs: fromFile.server?.login_limits?.window !== undefined ? (parseDuration(fromFile.server.login_limits.window) ?? 15 * 60_000) : 15 * 60_000,
      },
    },
    sweepIntervalMs: fromFile.scheduler?.sweep_interval !== undefined ? (parseDuration(fromFile.scheduler.sweep_interval) ?? 0) : /^postgres/.test(databaseUrl) ? 2000 : 0,
    notebooks: { warmKernels: fromFile.notebooks?.warm_kernels ?? 1, kernelspecs: fromFile.notebooks?.kernelspecs ?? ["python3"] },
    clusters: fromFile.clusters ?? {},
    sandboxes: fromFile.sandboxes && { ...fromFile.sandboxes, ...(fromFile.sandboxes.python?.includes("/") ? { python: rel(fromFile.sandboxes.python, base) } : {}) },
    volumes: fromFile.volumes && Object.fromEntries(Object.entries(fromFile.volumes).map(([name, v]) => [name, v.kind === "s3" || v.kind === "webhdfs" ? v : { ...v, path: rel(v.path, base) }])),
    modelStores: fromFile.models?.store ?? {},
    file,
  };
}
