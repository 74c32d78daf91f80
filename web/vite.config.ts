// Builds the web UI into web/dist, which `capstan up` serves at /; `npx vite --config web/vite.config.ts` serves it for
// development with /api proxied to a running `capstan up`. TSX compiles with the automatic JSX runtime named in
// web/tsconfig.json, so no plugin is needed for the production build.
import { fileURLToPath } from "node:url";

export default ({ command }: { command: "build" | "serve" }) => ({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  // A build is always React's production build, even when NODE_ENV says otherwise (vitest sets it to "test").
  ...(command === "build" ? { define: { "process.env.NODE_ENV": JSON.stringify("production") } } : {}),
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 900,
    rolldownOptions: {
      // Libraries mark their modules "use client" for server-rendering frameworks; it means nothing in this bundle.
      onwarn(warning: { code?: string }, warn: (warning: { code?: string }) => void) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: {
    proxy: { "/api": { target: process.env.CAPSTAN_URL ?? "http://localhost:8080", changeOrigin: false } },
  },
});
