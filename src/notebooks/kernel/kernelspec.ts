/**
 * Kernelspec discovery over the Jupyter data paths, in jupyter_client's order: $JUPYTER_PATH,
 * the environment prefixes (Capstan's Python, an active venv or conda env, the project's .venv),
 * the user data dir, then /usr/local/share/jupyter and /usr/share/jupyter. The first
 * `kernels/<name>/kernel.json` found for a (case-insensitive) name wins.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { KernelNotFoundError, KernelSpecError, type FoundKernelSpec } from "../errors.js";

/** A kernelspec: how to start one kind of kernel. */
export interface KernelSpec {
  /** the (lower-case) name, the kernelspec's directory name */
  name: string;
  /** the directory holding kernel.json; empty for the built-in python3 spec */
  resourceDir: string;
  argv: string[];
  displayName: string;
  language: string;
  /** extra environment variables, with `${VAR}` references to the launching environment */
  env: Record<string, string>;
  /** how to interrupt: SIGINT to the process group, or an interrupt_request message */
  interruptMode: "signal" | "message";
}

/** Where to look for kernelspecs. */
export interface KernelSpecSearchOptions {
  /** the environment to read JUPYTER_PATH, JUPYTER_DATA_DIR, XDG_DATA_HOME, HOME… from */
  env?: NodeJS.ProcessEnv;
  /** the Python interpreter Capstan runs kernels with ($CAPSTAN_PYTHON); its prefix is searched */
  python?: string | undefined;
  /** search the project's own `.venv` too (default true; the setup script registers python3 there) */
  projectVenv?: boolean;
}

const VALID_NAME = /^[a-z0-9._-]+$/i;

/** The project root (where the setup script makes `.venv`), found from this file's location. */
function projectRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
}

/** The prefix of a Python interpreter: the directory above its `bin/`. */
export function pythonPrefix(python: string): string {
  return dirname(dirname(python));
}

/** The Jupyter data directories searched, highest priority first. */
export function jupyterDataPaths(options: KernelSpecSearchOptions = {}): string[] {
  const env = options.env ?? process.env;
  const paths: string[] = [];
  for (const entry of (env["JUPYTER_PATH"] ?? "").split(":")) {
    if (entry) {
      paths.push(entry.replace(/\/+$/, ""));
    }
  }
  const prefixes = [
    options.python ? pythonPrefix(options.python) : undefined,
    env["VIRTUAL_ENV"],
    env["CONDA_PREFIX"],
    options.projectVenv === false ? undefined : join(projectRoot(), ".venv"),
  ];
  for (const prefix of prefixes) {
    if (prefix) {
      paths.push(join(prefix, "share", "jupyter"));
    }
  }
  const home = env["HOME"] ?? homedir();
  paths.push(env["JUPYTER_DATA_DIR"] || join(env["XDG_DATA_HOME"] || join(home, ".local", "share"), "jupyter"));
  paths.push("/usr/local/share/jupyter", "/usr/share/jupyter");
  return [...new Set(paths)];
}

async function kernelDirs(dataPath: string): Promise<FoundKernelSpec[]> {
  const kernelsDir = join(dataPath, "kernels");
  let entries: string[];
  try {
    entries = await readdir(kernelsDir);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => VALID_NAME.test(entry) && existsSync(join(kernelsDir, entry, "kernel.json")))
    .map((entry) => ({ name: entry.toLowerCase(), resourceDir: join(kernelsDir, entry) }));
}

/** Every kernelspec found, the first of each name only, in search order. */
export async function listKernelSpecs(options: KernelSpecSearchOptions = {}): Promise<FoundKernelSpec[]> {
  const found = new Map<string, FoundKernelSpec>();
  for (const dataPath of jupyterDataPaths(options)) {
    for (const spec of await kernelDirs(dataPath)) {
      if (!found.has(spec.name)) {
        found.set(spec.name, spec);
      }
    }
  }
  return [...found.values()];
}

/** Reads one kernel.json. */
export async function readKernelSpec(name: string, resourceDir: string): Promise<KernelSpec> {
  const file = join(resourceDir, "kernel.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new KernelSpecError(file, `cannot read the kernelspec: ${(error as Error).message}`, { cause: error });
  }
  const spec = raw as Record<string, unknown>;
  const argv = spec["argv"];
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((arg) => typeof arg === "string")) {
    throw new KernelSpecError(file, '"argv" must be a non-empty list of strings, with "{connection_file}" where the kernel takes its connection file');
  }
  const env = spec["env"];
  return {
    name,
    resourceDir,
    argv,
    displayName: typeof spec["display_name"] === "string" ? spec["display_name"] : name,
    language: typeof spec["language"] === "string" ? spec["language"] : "",
    env: env && typeof env === "object" ? Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value)])) : {},
    interruptMode: spec["interrupt_mode"] === "message" ? "message" : "signal",
  };
}

/**
 * Finds a kernelspec by name. `python` is `python3`, as jupyter_client's KernelManager renames it.
 * When `python3` is not registered anywhere but a Python is known, uses that Python's ipykernel,
 * as jupyter_client falls back to its own.
 */
export async function findKernelSpec(name: string, options: KernelSpecSearchOptions = {}): Promise<KernelSpec> {
  const specs = await listKernelSpecs(options);
  const lowered = name.toLowerCase();
  const wanted = lowered === "python" ? "python3" : lowered;
  const found = specs.find((spec) => spec.name === wanted);
  if (found) {
    return readKernelSpec(found.name, found.resourceDir);
  }
  if (wanted === "python3" && options.python) {
    return {
      name: wanted,
      resourceDir: "",
      argv: [options.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
      displayName: "Python 3 (ipykernel)",
      language: "python",
      env: {},
      interruptMode: "signal",
    };
  }
  throw new KernelNotFoundError(name, specs, jupyterDataPaths(options));
}

/** True for the kernels jupyter_client treats as ipykernel (their history goes to memory). */
export function isIpykernel(spec: KernelSpec): boolean {
  return spec.name === "python" || spec.name === "python2" || spec.name === "python3";
}
