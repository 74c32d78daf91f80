/**
 * Runs one of the scripts that build a test component from the Go module proxy
 * (scripts/{s3,helm,kustomize}-testenv/build.sh, sharing scripts/lib/go-testenv.sh), or another
 * script that makes a cached component (the Kafka broker's Maven fetch), and returns the cache
 * folder it printed last. The script's progress is echoed; a failed build rejects with
 * the script's last lines, so the run fails with the reason instead of skipping.
 */
import { spawn } from "node:child_process";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPTS = resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts");

/** Which build script to run and how to name it in messages. */
export interface GoTestenvBuild {
  /** The folder under scripts/ holding build.sh, e.g. "helm-testenv". */
  folder: string;
  /** What is built, for messages: "helm", "the test S3 server". */
  what: string;
}

/** The cache folder of a built component, building it first when the cache lacks it. */
export async function ensureGoTestenvBuild(build: GoTestenvBuild, progress: NodeJS.WritableStream = process.stderr): Promise<string> {
  return runCacheScript(resolve(SCRIPTS, build.folder, "build.sh"), { label: build.folder, what: build.what, verb: "building" }, progress);
}

/** How runCacheScript names its script's work in messages. */
export interface CacheScriptNames {
  /** The log label, e.g. "helm-testenv". */
  label: string;
  /** What the script makes, e.g. "helm". */
  what: string;
  /** What the script does, e.g. "building", "fetching". */
  verb: string;
}

/**
 * Runs a script that makes a cached test component (a Go build, a Maven fetch) and answers the
 * folder it printed last on stdout; its stderr is echoed, and a failure rejects with its last lines.
 */
export async function runCacheScript(script: string, names: CacheScriptNames, progress: NodeJS.WritableStream = process.stderr): Promise<string> {
  const started = Date.now();
  const lines: string[] = [];
  const shown = relative(resolve(SCRIPTS, ".."), script);
  const dir = await new Promise<string>((resolvePromise, reject) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      progress.write(chunk);
      lines.push(...chunk.split("\n"));
      if (lines.length > 40) lines.splice(0, lines.length - 40);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && last !== "") resolvePromise(last);
      else reject(new Error(`${shown} failed (exit ${String(code)}) ${names.verb} ${names.what}; last lines:\n${lines.join("\n")}`));
    });
  });
  const seconds = (Date.now() - started) / 1000;
  if (seconds > 5) progress.write(`[${names.label}] ${names.what} ready after ${seconds.toFixed(0)} s\n`);
  return dir;
}
