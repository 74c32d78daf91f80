/**
 * helm for the chart tests (test/deploy/), without a prebuilt download: built from the Go module
 * proxy by scripts/helm-testenv/build.sh and cached in ~/.cache/capstan/helm/helm-<version>/.
 *
 * The global setup calls ensureHelmBinary() beside the Kubernetes and S3 builds, so all build at
 * once on a fresh machine; a failed build fails the run with the build's own last lines.
 * runHelm() runs it with its own cache, config and data folders so tests never touch ~/.config/helm.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureGoTestenvBuild } from "./go-testenv.js";

/** Where the built helm binary is, building it first when the cache lacks it. */
export async function ensureHelmBinary(progress: NodeJS.WritableStream = process.stderr): Promise<string> {
  return join(await ensureGoTestenvBuild({ folder: "helm-testenv", what: "helm" }, progress), "helm");
}

/** What one helm command printed and how it ended. */
export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A helm command line bound to one binary, with private cache/config/data folders. */
export interface Helm {
  binary: string;
  /** Runs helm with `args`; never throws for a non-zero exit (the test asserts on code and stderr). */
  run(args: string[], options?: { kubeconfig?: string; timeoutMs?: number }): Promise<HelmResult>;
}

/** A Helm runner for a test file; builds helm first when the cache lacks it. */
export async function createHelm(): Promise<Helm> {
  const binary = await ensureHelmBinary();
  const home = mkdtempSync(join(tmpdir(), "capstan-helm-"));
  const baseEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_DATA_HOME: join(home, "data"),
  };
  return {
    binary,
    run(args, options = {}) {
      const env: NodeJS.ProcessEnv = { ...baseEnv, KUBECONFIG: options.kubeconfig ?? join(home, "no-kubeconfig") };
      return new Promise<HelmResult>((resolvePromise, reject) => {
        const child = spawn(binary, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: options.timeoutMs ?? 60_000 });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
      });
    },
  };
}
