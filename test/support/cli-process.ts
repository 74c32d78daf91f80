/** Running the `capstan` command as a child process in tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { CAPSTAN_BIN } from "./build.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `capstan ARGS` to completion, with `input` on its stdin when given. */
export function runCli(args: readonly string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number; input?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const stdin = options.input === undefined ? "ignore" : "pipe";
    const child = spawn(process.execPath, [CAPSTAN_BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: [stdin, "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`capstan ${args.join(" ")} did not finish within ${options.timeoutMs ?? 120_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface UpProcess {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Starts `capstan up --port 0` and resolves with its URL once it serves. */
export function startUp(args: readonly string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<UpProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAPSTAN_BIN, ...args, "up", "--port", "0", "--no-watch"], { cwd: options.cwd, env: { ...process.env, CAPSTAN_LOG_LEVEL: "warn", ...options.env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`capstan up did not start within ${options.timeoutMs ?? 30_000} ms\n${stderr}`)), options.timeoutMs ?? 30_000);
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const match = /Capstan is up at (\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1], stderr: () => stderr });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`capstan up exited with ${code}\n${stderr}`));
    });
  });
}
