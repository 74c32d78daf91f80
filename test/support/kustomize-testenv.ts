/**
 * kustomize for the kustomize tests (test/deploy/kustomize.test.ts), without a prebuilt download:
 * scripts/kustomize-testenv/main.go calls kustomize's own library (sigs.k8s.io/kustomize/api krusty,
 * what `kustomize build` and `kubectl kustomize` run), built from the Go module proxy by
 * scripts/kustomize-testenv/build.sh and cached in ~/.cache/capstan/kustomize/<version>/.
 *
 * The global setup calls ensureKustomizeBinary() beside the other builds; a failed build fails the
 * run with the build's own last lines.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ensureGoTestenvBuild } from "./go-testenv.js";

/** Where the built kustomize-build binary is, building it first when the cache lacks it. */
export async function ensureKustomizeBinary(progress: NodeJS.WritableStream = process.stderr): Promise<string> {
  return join(await ensureGoTestenvBuild({ folder: "kustomize-testenv", what: "kustomize-build" }, progress), "kustomize-build");
}

/** What `kustomize build DIR` printed and how it ended. */
export interface KustomizeResult {
  code: number;
  stdout: string;
  stderr: string;
}

let binaryOnce: Promise<string> | undefined;

/** Runs `kustomize build dir`; never throws for a non-zero exit (the test asserts on code and stderr). */
export async function kustomizeBuild(dir: string): Promise<KustomizeResult> {
  binaryOnce ??= ensureKustomizeBinary();
  const binary = await binaryOnce;
  return new Promise<KustomizeResult>((resolvePromise, reject) => {
    const child = spawn(binary, [dir], { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}
