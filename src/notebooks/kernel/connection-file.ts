/**
 * Connection files: the five channels, the key and the signature scheme a kernel reads at start.
 * The `ipc` transport (Unix sockets in a private directory) is the default: nothing to pick, so
 * parallel runs never race for ports. `tcp` picks free loopback ports (a small race remains).
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";

/** The channels of a kernel. */
export type Channel = "shell" | "iopub" | "stdin" | "control" | "hb";

/** The transports a kernel can listen on. */
export type Transport = "ipc" | "tcp";

/** The content of a connection file. */
export interface ConnectionInfo {
  transport: Transport;
  /** tcp: the address; ipc: the socket path prefix (sockets are `<ip>-<port>`) */
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name: string;
}

const CHANNELS: Channel[] = ["shell", "iopub", "stdin", "control", "hb"];

/** The ZeroMQ endpoint of a channel. */
export function channelEndpoint(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port`];
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** New connection info for a kernel whose sockets live in `dir` (ipc) or on loopback (tcp). */
export async function newConnectionInfo(dir: string, kernelName: string, transport: Transport = "ipc"): Promise<ConnectionInfo> {
  const ports: number[] = [];
  if (transport === "tcp") {
    // Hold all five listeners until each has a port, so the five are distinct.
    for (let index = 0; index < CHANNELS.length; index += 1) {
      let port = await freePort();
      while (ports.includes(port)) {
        port = await freePort();
      }
      ports.push(port);
    }
  } else {
    ports.push(1, 2, 3, 4, 5);
  }
  const [shell = 0, iopub = 0, stdin = 0, control = 0, hb = 0] = ports;
  return {
    transport,
    ip: transport === "ipc" ? join(dir, "kernel") : "127.0.0.1",
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomBytes(16).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
}

/** Writes a connection file readable by its owner only. */
export async function writeConnectionFile(path: string, info: ConnectionInfo): Promise<void> {
  await writeFile(path, JSON.stringify(info, null, 2), { mode: 0o600 });
}
