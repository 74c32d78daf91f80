/**
 * Locates the binaries of the test control plane, building them with scripts/kube-testenv/build.sh
 * when the versioned cache folder is missing or incomplete.
 */
import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeTestenvError } from "./errors.js";

/** Folder of the build script, the stage files and versions.env. */
export const kubeTestenvScriptsDir = fileURLToPath(new URL("../../../scripts/kube-testenv/", import.meta.url));

/** Paths of the built binaries (all in one versioned cache folder). */
export interface KubeBinaries {
  /** The versioned cache folder, e.g. ~/.cache/capstan/kube/v1.36.3. */
  dir: string;
  kubeApiserver: string;
  kubeScheduler: string;
  etcd: string;
  kwok: string;
  /** kwok's CustomResourceDefinition of `Logs` (per-pod log files). */
  kwokLogsCrd: string;
}

/** Options of {@link ensureKubeBinaries}. */
export interface EnsureKubeBinariesOptions {
  /** Where the build's progress goes; defaults to this process's stderr. */
  progress?: NodeJS.WritableStream;
}

/**
 * Returns the cached binaries, running scripts/kube-testenv/build.sh first (a cold build takes
 * many minutes; concurrent callers wait for one build). Throws KubeTestenvError when it fails.
 */
export async function ensureKubeBinaries(options: EnsureKubeBinariesOptions = {}): Promise<KubeBinaries> {
  const script = join(kubeTestenvScriptsDir, "build.sh");
  const progress = options.progress ?? process.stderr;
  const dir = await new Promise<string>((resolve, reject) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      progress.write(chunk);
    });
    child.on("error", (error) => {
      reject(new KubeTestenvError("build", `could not run ${script}: ${error.message}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      const lines = stdout.trim().split("\n");
      const last = lines[lines.length - 1]?.trim() ?? "";
      if (code === 0 && last !== "") resolve(last);
      else
        reject(
          new KubeTestenvError(
            "build",
            `${script} ended with ${signal ?? `exit code ${code}`}; its progress output above says which step failed`,
          ),
        );
    });
  });
  const binaries: KubeBinaries = {
    dir,
    kubeApiserver: join(dir, "kube-apiserver"),
    kubeScheduler: join(dir, "kube-scheduler"),
    etcd: join(dir, "etcd"),
    kwok: join(dir, "kwok"),
    kwokLogsCrd: join(dir, "crds", "kwok.x-k8s.io_logs.yaml"),
  };
  for (const path of [binaries.kubeApiserver, binaries.kubeScheduler, binaries.etcd, binaries.kwok]) {
    try {
      await access(path, constants.X_OK);
    } catch (error) {
      throw new KubeTestenvError("build", `${path} is missing after ${script} succeeded; run it with --force`, {
        cause: error,
      });
    }
  }
  return binaries;
}
