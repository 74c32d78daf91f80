/**
 * Browser tests' support: the web UI built into web/dist when its sources are newer, and Debian's
 * Chromium driven by playwright-core (headless, no sandbox, a fresh profile per test).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { REPO_ROOT } from "../../support/build.js";

export const WEB_DIST = join(REPO_ROOT, "web", "dist");
export const SCREENSHOTS = join(REPO_ROOT, "test-results", "screenshots");
const CHROMIUM = process.env.CAPSTAN_CHROMIUM ?? "/usr/bin/chromium";

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds web/dist with Vite when a file under web/src (or the page) is newer than the last build. */
export function ensureWebBuilt(): string {
  const index = join(WEB_DIST, "index.html");
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(newest(join(REPO_ROOT, "web", "src")), statSync(join(REPO_ROOT, "web", "index.html")).mtimeMs);
  if (sources > built) execFileSync(process.execPath, [join(REPO_ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "--config", join(REPO_ROOT, "web", "vite.config.ts"), "--logLevel", "warn"], { cwd: REPO_ROOT, stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
  return WEB_DIST;
}

/** Starts headless Chromium with a fresh profile; throws with the install hint when it is missing. */
export async function launchChromium(): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (scripts/setup.sh installs it), or set CAPSTAN_CHROMIUM`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "capstan-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"],
  });
}
