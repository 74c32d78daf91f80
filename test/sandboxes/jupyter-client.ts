/**
 * A small Jupyter client for tests and the benchmark: REST calls and a kernel `execute` over the
 * kernel's WebSocket (Jupyter's JSON message protocol), against JupyterLab directly or through the
 * proxy, with whatever headers the caller chooses.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";

export interface JupyterRequestOptions {
  headers?: Record<string, string>;
}

/** Starts a kernel; returns its id. */
export async function startKernel(base: string, options: JupyterRequestOptions = {}): Promise<string> {
  const response = await fetch(new URL("api/kernels", base), { method: "POST", headers: { "content-type": "application/json", ...options.headers }, body: JSON.stringify({ name: "python3" }) });
  if (response.status !== 201) throw new Error(`POST api/kernels answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Opens the kernel's channels WebSocket; rejects with the HTTP status when the upgrade is refused. */
export function openKernelSocket(base: string, kernelId: string, options: JupyterRequestOptions = {}): Promise<WebSocket> {
  const url = new URL(`api/kernels/${kernelId}/channels`, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: options.headers ?? {} });
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_request, response) => {
      reject(Object.assign(new Error(`WebSocket upgrade refused with ${response.statusCode}`), { status: response.statusCode }));
      socket.terminate();
    });
    socket.once("error", reject);
  });
}

/** Executes `code` on an open kernel socket; resolves with the text/plain result or stream output. */
export function execute(socket: WebSocket, code: string, timeoutMs = 30_000): Promise<string> {
  const msgId = randomUUID();
  const message = {
    header: { msg_id: msgId, username: "test", session: randomUUID(), msg_type: "execute_request", version: "5.3", date: new Date().toISOString() },
    parent_header: {},
    metadata: {},
    content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
    channel: "shell",
    buffers: [],
  };
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      socket.off("message", onMessage);
      reject(new Error(`no reply to execute within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      const reply = JSON.parse(Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString("utf8")) as { parent_header?: { msg_id?: string }; msg_type?: string; header?: { msg_type?: string }; content?: Record<string, unknown> };
      if (reply.parent_header?.msg_id !== msgId) return;
      const type = reply.msg_type ?? reply.header?.msg_type;
      if (type === "execute_result") output += text((reply.content?.data as Record<string, unknown> | undefined)?.["text/plain"]);
      if (type === "stream") output += text(reply.content?.text);
      if (type === "error") output += `${String(reply.content?.ename)}: ${String(reply.content?.evalue)}`;
      if (type === "status" && reply.content?.execution_state === "idle") {
        clearTimeout(timer);
        socket.off("message", onMessage);
        resolve(output);
      }
    };
    socket.on("message", onMessage);
    socket.send(JSON.stringify(message));
  });
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}
