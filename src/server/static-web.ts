/**
 * Serves the built web UI (web/dist) at /: hashed assets with a long cache, and index.html for
 * every other page path so the UI's own router takes over. The app's pages get a strict CSP.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/** The UI's policy: only its own scripts, no plugins, framed by nobody, frames only from this origin (the notebook sandbox). */
export const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

function pageHeaders(reply: FastifyReply): void {
  void reply.header("content-security-policy", APP_CSP).header("cache-control", "no-cache").header("x-frame-options", "DENY").header("referrer-policy", "same-origin");
}

/** Registers the UI's files; returns a handler that answers unknown page paths with index.html (or undefined when the UI is not built). */
export async function registerWebUi(app: FastifyInstance, webRoot: string | null): Promise<((reply: FastifyReply) => FastifyReply) | undefined> {
  if (!webRoot || !existsSync(join(webRoot, "index.html"))) return undefined;
  const assets = join(webRoot, "assets");
  await app.register(fastifyStatic, {
    root: webRoot,
    prefix: "/",
    index: ["index.html"],
    wildcard: true,
    dotfiles: "deny",
    setHeaders: (reply, path) => {
      if (path.startsWith(`${assets}/`)) void reply.header("cache-control", "public, max-age=31536000, immutable");
      else pageHeaders(reply);
      void reply.header("x-content-type-options", "nosniff");
    },
  });
  return (reply) => {
    pageHeaders(reply);
    return reply.sendFile("index.html");
  };
}

/** The page shown at / when the web UI has not been built. */
export function notBuiltPage(reply: FastifyReply): FastifyReply {
  pageHeaders(reply);
  return reply
    .type("text/html; charset=utf-8")
    .send('<!doctype html><meta charset="utf-8"><title>Capstan</title><p>The web UI is not built. Run <code>npm run build</code> (it builds <code>web/dist</code>), then restart <code>capstan up</code>. The API is at <a href="/api/openapi.json">/api/openapi.json</a>.</p>');
}
