/**
 * The serving benchmark's environment: the TorchServe 0.12 anchor venv (bench/serving/setup-anchor.sh)
 * and what it lacks, the Python both servers' workers run, and the archives, built with the real
 * torch-model-archiver when one is installed.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { writeMar } from "../../test/serving/support/mar-builder.js";

export const ROOT = resolve(import.meta.dirname, "..", "..");

/** Where setup-anchor.sh puts TorchServe, torch-model-archiver and torch. */
export const ANCHOR_VENV = process.env["CAPSTAN_BENCH_TORCHSERVE_VENV"] || join(homedir(), ".cache", "capstan", "bench", "torchserve-0.12", "venv");

const PROJECT_PYTHON = process.env["CAPSTAN_PYTHON"] || join(ROOT, ".venv", "bin", "python");

const NOOP_HANDLER = "def handle(data, context):\n    if data is None:\n        return None\n    return ['ok'] * len(data)\n";

const MNIST_HANDLER = `
import json, torch

class Mnist:
    def initialize(self, context):
        torch.manual_seed(0)
        torch.set_num_threads(1)
        self.model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).eval()

    def handle(self, data, context):
        rows = [row.get("body") for row in data]
        x = torch.tensor([r if isinstance(r, list) else json.loads(r) for r in rows], dtype=torch.float32)
        with torch.no_grad():
            return self.model(x).argmax(dim=1).tolist()
`;

function imports(python: string, modules: string): boolean {
  try {
    execFileSync(python, ["-c", `import ${modules}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** What the bench can run here. */
export interface BenchEnvironment {
  /** the Python of both servers' workers: the anchor venv's when it exists, so both import the same torch */
  python: string;
  withTorch: boolean;
  /** the torchserve launcher of the anchor venv, when TorchServe can run here */
  torchserve?: string;
  /** why TorchServe is not measured */
  anchorMissing?: string;
  /** the torch-model-archiver used, or undefined when archives are written by the test's builder */
  archiver?: string;
}

export function benchEnvironment(): BenchEnvironment {
  const anchorPython = join(ANCHOR_VENV, "bin", "python");
  const hasAnchorVenv = existsSync(anchorPython);
  const python = hasAnchorVenv ? anchorPython : PROJECT_PYTHON;
  const withTorch = imports(python, "torch");
  let anchorMissing: string | undefined;
  if (!hasAnchorVenv || !existsSync(join(ANCHOR_VENV, "bin", "torchserve"))) anchorMissing = `no TorchServe venv at ${ANCHOR_VENV} (run bench/serving/setup-anchor.sh)`;
  else if (!withTorch) anchorMissing = `${anchorPython} cannot import torch, and TorchServe's worker imports torch before any handler (run bench/serving/setup-anchor.sh)`;
  else if (!onPath("java")) anchorMissing = "java is not on PATH (TorchServe's frontend needs Java 17)";
  const archivers = [join(ANCHOR_VENV, "bin", "torch-model-archiver"), join(ROOT, ".venv", "bin", "torch-model-archiver")];
  return {
    python,
    withTorch,
    ...(anchorMissing ? { anchorMissing } : { torchserve: join(ANCHOR_VENV, "bin", "torchserve") }),
    ...(archivers.find(existsSync) ? { archiver: archivers.find(existsSync)! } : {}),
  };
}

/** Writes the bench's archives into `store` (noop and, with torch, mnist, at batch sizes 1 and 8); returns their names. */
export function writeArchives(env: BenchEnvironment, dir: string, store: string, workers: number): string[] {
  const names: string[] = [];
  const kinds: Array<[string, string, string, string]> = [["noop", "noop_handler.py", NOOP_HANDLER, "noop_handler:handle"]];
  if (env.withTorch) kinds.push(["mnist", "mnist_handler.py", MNIST_HANDLER, "mnist_handler"]);
  for (const [kind, file, source, handler] of kinds) {
    for (const batch of [1, 8]) {
      const name = `${kind}_b${batch}`;
      const config = `minWorkers: ${workers}\nmaxWorkers: ${workers}\nbatchSize: ${batch}\nmaxBatchDelay: 5\n`;
      if (env.archiver) {
        const src = join(dir, "src", name);
        mkdirSync(src, { recursive: true });
        writeFileSync(join(src, file), source);
        writeFileSync(join(src, "model-config.yaml"), config);
        execFileSync(env.archiver, ["--model-name", name, "--version", "1.0", "--handler", handler, "--config-file", "model-config.yaml", "--export-path", store], { cwd: src, stdio: "pipe" });
      } else {
        writeMar(join(store, `${name}.mar`), { modelName: name, handler, configFile: "model-config.yaml", files: { [file]: source, "model-config.yaml": config } });
      }
      names.push(name);
    }
  }
  return names;
}

/** config.properties for either server: the three listeners on `port`, +1, +2, no GPUs, no token auth. */
export function writeProperties(dir: string, name: string, port: number, workers: number): string {
  const path = join(dir, name);
  writeFileSync(path, [`inference_address=http://127.0.0.1:${port}`, `management_address=http://127.0.0.1:${port + 1}`, `metrics_address=http://127.0.0.1:${port + 2}`, `default_workers_per_model=${workers}`, "disable_token_authorization=true", "number_of_gpu=0"].join("\n") + "\n");
  return path;
}
