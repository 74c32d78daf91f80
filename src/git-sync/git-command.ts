/**
 * Runs the git binary for the pipeline sync: no terminal prompts, no system or global config, a
 * time limit, and credentials passed as configuration in the environment (never on the command
 * line, where `ps` would show them). A failure carries git's own last lines.
 */
import { execFile } from "node:child_process";

/** How long one git command may take. */
const GIT_TIMEOUT_MS = 120_000;

/** git failed; `stderr` holds its message. */
export class GitCommandError extends Error {
  override readonly name = "GitCommandError";
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    super(`git ${args[0] ?? ""} failed: ${lastLines(stderr) || (options?.cause instanceof Error ? options.cause.message : "no message")}`, options);
  }
}

function lastLines(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("hint:"))
    .slice(-3)
    .join("; ");
}

/** Basic credentials for an http(s) remote. */
export interface GitCredentials {
  username: string;
  password: string;
}

/** The environment git runs with: isolated from the machine's git config, prompts off, credentials as an http header. */
export function gitEnv(credentials?: GitCredentials): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: process.env["HOME"] ?? "/",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    LANG: "C",
    LC_ALL: "C",
  };
  if (credentials !== undefined) {
    const basic = Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64");
    env["GIT_CONFIG_COUNT"] = "1";
    env["GIT_CONFIG_KEY_0"] = "http.extraHeader";
    env["GIT_CONFIG_VALUE_0"] = `Authorization: Basic ${basic}`;
  }
  return env;
}

/** Runs `git ARGS` in `cwd`; resolves with stdout. */
export function runGit(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", [...args], { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? GIT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new GitCommandError(args, stderr || (error.killed ? `timed out after ${(options.timeoutMs ?? GIT_TIMEOUT_MS) / 1000} s` : ""), { cause: error }));
      else resolve(stdout);
    });
  });
}
