/**
 * `capstan login` and `capstan logout`: exchange a username and password for an API token of a
 * server and save it per server URL (mode 0600), so later commands with `--server URL` use it.
 */
import { hostname } from "node:os";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { ClientError } from "../errors.js";
import { configFrom, globalOptions } from "../context.js";
import { printJson } from "../output.js";

/** The server to log in to: --server, else the `capstan up` running against the home. */
async function serverOf(command: Command): Promise<string> {
  const server = globalOptions(command).server;
  if (server) {
    try {
      return new URL(server).toString().replace(/\/$/, "");
    } catch {
      throw new ClientError(`--server ${JSON.stringify(server)} is not a URL; write it like https://capstan.example.com`);
    }
  }
  const config = await configFrom(command);
  const { readSchedulerLock } = await import("../../wiring/index.js");
  const lock = readSchedulerLock(config.home);
  if (lock?.url) return lock.url;
  throw new ClientError(`name the server to log in to with --server URL (no capstan up runs against ${config.home})`);
}

/** Reads a line from the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new ClientError("no terminal to ask for the password: pipe it in with --password-stdin");
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003" || ch === "\u0004") return finish(new ClientError("cancelled", 130));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

async function ask(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new ClientError("no terminal to ask for the username: give it with --username");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}

async function post(url: string, body: unknown, token?: string, method = "POST"): Promise<{ status: number; payload: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new ClientError(`cannot reach the Capstan server at ${new URL(url).origin}: ${(error as Error).message}`, 1);
  }
  const text = await response.text();
  let payload: unknown;
  try {
    payload = text === "" ? undefined : JSON.parse(text);
  } catch {
    payload = undefined;
  }
  return { status: response.status, payload };
}

export function registerLoginCommands(program: Command): void {
  program
    .command("login")
    .description("sign in to a Capstan server (--server URL) and save an API token for it; later commands with --server use it")
    .option("--username <name>", "the user to sign in as (asked when not given)")
    .option("--password-stdin", "read the password from standard input instead of asking", false)
    .option("--token-name <name>", "name of the token, as listed under Account → API tokens", `capstan CLI on ${hostname()}`)
    .option("--expires-in-days <days>", "make the token expire after this many days")
    .action(async (opts: { username?: string; passwordStdin: boolean; tokenName: string; expiresInDays?: string }, command: Command) => {
      const expires = opts.expiresInDays === undefined ? undefined : Number(opts.expiresInDays);
      if (expires !== undefined && (!Number.isInteger(expires) || expires < 1 || expires > 3650)) throw new ClientError(`--expires-in-days ${opts.expiresInDays}: expected a whole number of days, 1–3650`);
      const server = await serverOf(command);
      const username = opts.username ?? (await ask("Username: "));
      if (!username) throw new ClientError("a username is needed");
      const password = opts.passwordStdin ? await readStdin() : await readHidden(`Password for ${username} at ${server}: `);
      const { status, payload } = await post(`${server}/api/auth/token`, { username, password, name: opts.tokenName, ...(expires !== undefined ? { expires_in_days: expires } : {}) });
      if (status !== 201) {
        const message = (payload as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${status}`;
        throw new ClientError(`login to ${server} failed: ${message}`, status >= 500 ? 1 : 2);
      }
      const created = payload as { id: string; token: string; username: string; expires_at: string | null };
      const { saveCredential } = await import("../../auth/index.js");
      const path = saveCredential(server, { username: created.username, token: created.token, tokenId: created.id, savedAt: new Date().toISOString() });
      if (globalOptions(command).json) printJson({ server, username: created.username, token_id: created.id, expires_at: created.expires_at, saved_in: path });
      else process.stdout.write(`logged in to ${server} as ${created.username}; the token is saved in ${path}${created.expires_at ? ` (it expires ${created.expires_at})` : ""}\n`);
    });

  program
    .command("logout")
    .description("revoke and forget the token saved for a server by `capstan login`")
    .action(async (_opts: unknown, command: Command) => {
      const server = await serverOf(command);
      const { forgetCredential } = await import("../../auth/index.js");
      const saved = forgetCredential(server);
      if (!saved) {
        process.stdout.write(`no saved login for ${server}\n`);
        return;
      }
      const { status } = await post(`${server}/api/tokens/${encodeURIComponent(saved.tokenId)}`, undefined, saved.token, "DELETE").catch(() => ({ status: 0 }));
      process.stdout.write(`logged out of ${server}${status === 204 ? " (the token is revoked)" : " (the token was forgotten here; the server could not revoke it)"}\n`);
    });
}
