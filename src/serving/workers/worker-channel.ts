/**
 * Frames between the server and a Python worker over the socketpair of the worker's fd 3: a 4-byte
 * big-endian length, a 4-byte length of a JSON header, the header, then the binary parts the header
 * sizes in order (python/capstan_serving/protocol.py is the other end).
 */
import type { Socket } from "node:net";

/** A decoded frame. */
export interface Frame {
  header: Record<string, unknown>;
  body: Buffer;
}

/** Encodes one frame. */
export function encodeFrame(header: object, parts: readonly Buffer[] = []): Buffer[] {
  const head = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32BE(4 + head.length + parts.reduce((sum, p) => sum + p.length, 0), 0);
  prefix.writeUInt32BE(head.length, 4);
  return [prefix, head, ...parts];
}

/** Splits the bytes of a socket into frames and hands each to `onFrame`. */
export function readFrames(socket: Socket, onFrame: (frame: Frame) => void, onBadFrame: (error: Error) => void): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  socket.on("data", (chunk: Buffer) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    for (;;) {
      if (pendingBytes < 4) return;
      let data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      const total = data.readUInt32BE(0);
      if (pendingBytes < 4 + total) {
        pending = [data];
        return;
      }
      const frame = data.subarray(4, 4 + total);
      data = data.subarray(4 + total);
      pending = data.length > 0 ? [data] : [];
      pendingBytes = data.length;
      try {
        const headerSize = frame.readUInt32BE(0);
        const header = JSON.parse(frame.subarray(4, 4 + headerSize).toString("utf8")) as Record<string, unknown>;
        onFrame({ header, body: frame.subarray(4 + headerSize) });
      } catch (error) {
        onBadFrame(error as Error);
        return;
      }
    }
  });
}

/** Writes a frame with one writev-like burst (cork/uncork). */
export function writeFrame(socket: Socket, header: object, parts: readonly Buffer[] = []): void {
  socket.cork();
  for (const piece of encodeFrame(header, parts)) socket.write(piece);
  socket.uncork();
}
