/**
 * The bytes of an SSH connection between a WebSocket (the client's `capstan sandbox tunnel`) and a
 * TCP connection to the sandbox's sshd, both ways, with backpressure. Every message from the client
 * counts as the owner's activity (the WebSocket was only accepted for the owner), and the tunnel ends
 * when the platform credential it was opened with does.
 */
import { connect, type Socket } from "node:net";
import { createWebSocketStream, type WebSocket } from "ws";
import type { SandboxSshEndpoint } from "../backend.js";

/** Opens the TCP connection to the sshd; rejects when it does not answer within `timeoutMs`. */
export function connectSshd(endpoint: Pick<SandboxSshEndpoint, "host" | "port">, timeoutMs = 10_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the sandbox's sshd at ${endpoint.host}:${endpoint.port} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the sandbox's sshd at ${endpoint.host}:${endpoint.port}: ${error.message}`, { cause: error }));
    });
  });
}

export interface SshTunnelOptions {
  /** Called on each message from the client (the owner's traffic). */
  onActivity: () => void;
  /** Whether the credential the tunnel was opened with still holds; asked every `credentialCheckMs`. */
  stillValid: () => Promise<boolean>;
  credentialCheckMs?: number;
}

/** Pipes `ws` and `tcp` into each other until either ends; closing one closes the other. */
export function pipeSshTunnel(ws: WebSocket, tcp: Socket, options: SshTunnelOptions): void {
  const stream = createWebSocketStream(ws);
  let ended = false;
  const end = (code = 1000, reason = "") => {
    if (ended) return;
    ended = true;
    clearInterval(check);
    tcp.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    stream.destroy();
  };
  const check = setInterval(() => {
    void options.stillValid().then(
      (valid) => {
        if (!valid) end(4001, "the Capstan credential of this tunnel has ended");
      },
      () => undefined,
    );
  }, options.credentialCheckMs ?? 30_000);
  check.unref();
  ws.on("message", () => options.onActivity());
  stream.on("error", () => end(1011));
  tcp.on("error", () => end(1011, "the sandbox's sshd closed the connection"));
  stream.on("close", () => end());
  tcp.on("close", () => end(1000, "sshd closed the connection"));
  stream.pipe(tcp);
  tcp.pipe(stream);
}
