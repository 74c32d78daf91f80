/**
 * Server-Sent Events: a stream on a hijacked reply with a heartbeat, closed when the client goes
 * away, when the credential it was opened with stops working (revoked, logged out, expired), or
 * when the user's roles change (the client reconnects and is checked again).
 */
import type { FastifyReply } from "fastify";
import type { Principal } from "../auth/index.js";
import type { RouteContext } from "./context.js";

export interface EventStream {
  /** Sends one event; ignored once closed. */
  send(event: string, data: unknown): void;
  close(): void;
  /** Aborts when the stream closes for any reason. */
  readonly signal: AbortSignal;
}

const HEARTBEAT_MS = 15_000;
const RECHECK_MS = 30_000;
/** setTimeout's longest delay. */
const MAX_DELAY = 2_147_483_647;

/** Opens an event stream for an authenticated request. */
export function openEventStream(ctx: RouteContext, reply: FastifyReply, principal: Principal): EventStream {
  const controller = new AbortController();
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "x-content-type-options": "nosniff",
  });
  raw.write("retry: 2000\n\n");

  const timers: NodeJS.Timeout[] = [];
  const close = () => {
    if (controller.signal.aborted) return;
    controller.abort();
    ctx.streams.delete(stream);
    for (const timer of timers) clearInterval(timer);
    ctx.auth.events.off("changed", onChanged);
    raw.end();
  };
  const onChanged = (username: string) => {
    if (username === principal.username) close();
  };
  ctx.auth.events.on("changed", onChanged);
  timers.push(setInterval(() => raw.write(": ping\n\n"), HEARTBEAT_MS));
  timers.push(
    setInterval(() => {
      ctx.auth.stillValid(principal).then(
        (valid) => {
          if (!valid) close();
        },
        () => close(),
      );
    }, RECHECK_MS),
  );
  if (principal.expiresAt !== null) timers.push(setTimeout(close, Math.min(MAX_DELAY, Math.max(0, principal.expiresAt - Date.now()))));
  for (const timer of timers) timer.unref();
  // The response's close (not the request's, which fires once the request has been read) means the client went away.
  raw.on("close", close);
  raw.on("error", close);

  const stream: EventStream = {
    send(event, data) {
      if (controller.signal.aborted) return;
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close,
    signal: controller.signal,
  };
  ctx.streams.add(stream);
  return stream;
}
