/** Makes sure the compiled CLI (dist/) is not older than the sources, so tests that spawn `capstan` run current code. */
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
export const CAPSTAN_BIN = join(REPO_ROOT, "bin", "capstan.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Rebuilds dist/ with tsc when a source file is newer than the compiled CLI. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(REPO_ROOT, "dist", "cli", "main.js")).mtimeMs;
  } catch {
    built = 0;
  }
  if (newestMtime(join(REPO_ROOT, "src")) <= built) return;
  // tsc writes dist/ even when it reports type errors; those fail `npm run typecheck`, not the tests.
  const result = spawnSync(process.execPath, [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(REPO_ROOT, "tsconfig.build.json")], { stdio: "inherit" });
  if (result.error) throw result.error;
}
