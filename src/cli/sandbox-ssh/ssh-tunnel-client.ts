/**
 * The client end of the SSH tunnel (`capstan sandbox tunnel`, an SSH ProxyCommand): opens the API's
 * WebSocket for a sandbox with the CLI's token and pipes stdin to it and it to stdout until either
 * side ends. Nothing but the SSH connection's bytes is written to stdout; refusals go to stderr.
 */
import type { Readable, Writable } from "node:stream";
import WebSocket, { createWebSocketStream } from "ws";
import { ClientError } from "../errors.js";

export interface SshTunnelClientOptions {
  baseUrl: string;
  token: string | undefined;
  sandboxId: string;
  input: Readable;
  output: Writable;
}

/** The WebSocket URL of a sandbox's SSH tunnel on a Capstan server. */
export function tunnelUrl(baseUrl: string, sandboxId: string): URL {
  const url = new URL(`/api/sandboxes/${encodeURIComponent(sandboxId)}/ssh`, baseUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url;
}

/** Opens the tunnel; rejects with the server's reason when the upgrade is refused. */
function openTunnel(url: URL, token: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false, handshakeTimeout: 30_000 });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_request, response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        let message = `HTTP ${response.statusCode ?? "?"}`;
        try {
          message = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? message;
        } catch {
          // not JSON
        }
        ws.terminate();
        reject(new ClientError(`the SSH tunnel was refused: ${message}`, (response.statusCode ?? 500) >= 500 ? 1 : 2));
      });
    });
    ws.once("error", (error) => reject(new ClientError(`cannot open the SSH tunnel at ${url.origin}: ${error.message}`, 1)));
  });
}

/** Runs the tunnel until the SSH connection ends. */
export async function runSshTunnel(options: SshTunnelClientOptions): Promise<void> {
  const ws = await openTunnel(tunnelUrl(options.baseUrl, options.sandboxId), options.token);
  const stream = createWebSocketStream(ws);
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      options.input.unpipe(stream);
      options.input.destroy();
      resolve();
    };
    stream.on("error", finish);
    stream.on("close", finish);
    options.input.on("error", () => stream.end());
    options.input.pipe(stream);
    stream.pipe(options.output, { end: false });
  });
}
