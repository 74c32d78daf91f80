/**
 * The Files page in headless Chromium against a real server: a team member opens Files, uploads a
 * file to a team volume over tus and sees its progress bar, drops a file, renames and deletes it, previews it, shares it with a password and an
 * expiry, and the link works in a fresh browser without a session — after a wrong password is
 * refused; a shared folder shows its files and subfolders to a visitor without a session.
 * Screenshots go to test-results/screenshots/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";
import { ensureWebBuilt, launchChromium, SCREENSHOTS } from "./support/browser.js";

const WAIT = { timeout: 60_000 };

let h: ServerHarness;
let browser: BrowserContext;
let stranger: BrowserContext | undefined;
let page: Page;
let maya: TestUser;
let volume: string;

beforeAll(async () => {
  const webRoot = ensureWebBuilt();
  volume = join(tempDir("capstan-files-ui-"), "team-data");
  mkdirSync(volume);
  h = await openServer({
    webRoot,
    configure: (config) => {
      config.volumes = { "team-data": { kind: "local", path: volume, team: "ml", description: "The ML team's datasets" } };
    },
  });
  await h.auth.createTeam("ml", null);
  maya = await h.user("maya", { ml: "editor" });
  browser = await launchChromium();
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await stranger?.close();
  await browser?.close();
  await h?.close();
});

const shot = (target: Page, name: string) => target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** A CSV of some megabytes, so that its upload takes chunks and shows progress. */
function csv(rows: number): Buffer {
  const lines = ["day,users,revenue"];
  for (let i = 0; i < rows; i++) lines.push(`2026-11-${String((i % 30) + 1).padStart(2, "0")},${1000 + i},${(i * 1.25).toFixed(2)}`);
  return Buffer.from(`${lines.join("\n")}\n`);
}

describe("Files in the web UI", () => {
  it("uploads a file with a progress bar, previews it, shares it with a password and expiry, and the link works without a session", { timeout: 300_000 }, async () => {
    const data = csv(200_000);
    await page.goto(`${h.url}/files`);
    await page.waitForSelector("#username", WAIT);
    await page.fill("#username", maya.username);
    await page.fill("#password", maya.password);
    await page.click("button[type=submit]");
    await page.waitForSelector('table[aria-label="Files"]', WAIT);
    expect(await page.textContent("h1")).toBe("team-data");

    // Upload: the file's progress bar shows, fills, and the file lands on the volume whole, sent over tus.
    const requests: string[] = [];
    page.on("request", (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));
    await page.setInputFiles('input[aria-label="Files to upload"]', { name: "metrics.csv", mimeType: "text/csv", buffer: data });
    await page.waitForSelector('progress[aria-label="Upload of metrics.csv"]', WAIT);
    await page.waitForSelector('li[data-upload="metrics.csv"][data-state="done"]', WAIT);
    const bar = 'progress[aria-label="Upload of metrics.csv"]';
    expect([await page.getAttribute(bar, "value"), await page.getAttribute(bar, "max")]).toEqual([String(data.length), String(data.length)]);
    await page.waitForSelector('tr[data-entry="metrics.csv"]', WAIT);
    expect(readFileSync(join(volume, "metrics.csv")).equals(data)).toBe(true);
    expect(requests).toContain("POST /api/volumes/team-data/uploads");
    expect(requests.some((r) => /^PATCH \/api\/volumes\/team-data\/uploads\/[0-9a-f]+$/.test(r))).toBe(true);
    await shot(page, "files");

    // A file dropped on the list is uploaded too; rename and delete ask first.
    const dropped = await page.evaluateHandle("(() => { const t = new DataTransfer(); t.items.add(new File(['dropped\\n'], 'notes.txt', { type: 'text/plain' })); return t; })()");
    await page.dispatchEvent(".drop-zone", "drop", { dataTransfer: dropped });
    await page.waitForSelector('tr[data-entry="notes.txt"]', WAIT);
    expect(readFileSync(join(volume, "notes.txt"), "utf8")).toBe("dropped\n");
    page.once("dialog", (dialog) => void dialog.accept("notes-2026.txt"));
    await page.check('input[aria-label="Select notes.txt"]');
    await page.click('[role="toolbar"] >> text=Rename');
    await page.waitForSelector('tr[data-entry="notes-2026.txt"]', WAIT);
    page.once("dialog", (dialog) => void dialog.dismiss());
    await page.check('input[aria-label="Select notes-2026.txt"]');
    await page.click('[role="toolbar"] >> text=Delete');
    expect(readFileSync(join(volume, "notes-2026.txt"), "utf8")).toBe("dropped\n");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click('[role="toolbar"] >> text=Delete');
    await page.waitForSelector('tr[data-entry="notes-2026.txt"]', { state: "detached", ...WAIT });
    expect(existsSync(join(volume, "notes-2026.txt"))).toBe(false);

    // Preview: the first rows of the CSV.
    await page.click('tr[data-entry="metrics.csv"] button');
    await page.waitForSelector('.file-preview[data-kind="csv"] table', WAIT);
    expect(await page.textContent('.file-preview thead')).toContain("revenue");
    expect(await page.textContent(".file-preview tbody tr:first-child")).toContain("2026-11-01");
    await shot(page, "files-preview");
    await page.click('dialog[open] button[aria-label="Close"]');

    // Share with a password and an expiry of 7 days.
    await page.check('input[aria-label="Select metrics.csv"]');
    await page.click('[role="toolbar"] >> text=Share');
    await page.selectOption("#share-expiry", String(7 * 86_400));
    await page.fill("#share-password", "harbour-lights");
    await page.click('form[aria-label="Share link"] button[type=submit]');
    await page.waitForSelector("#share-url", WAIT);
    const url = await page.inputValue("#share-url");
    expect(url).toMatch(new RegExp(`^${h.url}/s/[A-Za-z0-9_-]{22,}$`));
    await shot(page, "files-share");
    await page.click('dialog[open] button[aria-label="Close"]');
    await page.waitForSelector('section[aria-label="My shares"] tr[data-share]', WAIT);

    // A fresh browser, no session: the wrong password is refused, the right one gives the file.
    stranger = await launchChromium();
    const visitor = await stranger.newPage();
    await visitor.goto(url);
    await visitor.waitForSelector("#share-password", WAIT);
    expect(await visitor.textContent("h1")).toBe("metrics.csv");
    expect((await visitor.request.get(`${h.url}/api/public/shares/${url.split("/s/")[1]}/files`)).status()).toBeGreaterThanOrEqual(400);
    await visitor.fill("#share-password", "wrong-password");
    await visitor.click('form[aria-label="Password"] button[type=submit]');
    await visitor.waitForSelector("text=That password is not right.", WAIT);
    await visitor.fill("#share-password", "harbour-lights");
    await visitor.click('form[aria-label="Password"] button[type=submit]');
    const [download] = await Promise.all([visitor.waitForEvent("download", WAIT), visitor.click("text=Download metrics.csv", WAIT)]);
    const saved = await download.path();
    expect(readFileSync(saved).equals(data)).toBe(true);
    await shot(visitor, "share-page");

    // The owner's list counts the download.
    await page.reload();
    await page.waitForSelector('section[aria-label="My shares"] tr[data-share]', WAIT);
    expect(await page.textContent('section[aria-label="My shares"] tr[data-share] td.num')).toBe("1");
    expect(h.serverErrors).toEqual([]);
  });

  it("shows a shared folder without a session: its files, a subfolder, a download and the zip, never its parent", { timeout: 180_000 }, async () => {
    mkdirSync(join(volume, "reports", "2026"), { recursive: true });
    writeFileSync(join(volume, "reports", "summary.md"), "# Summary\n");
    writeFileSync(join(volume, "reports", "2026", "november.csv"), "day,users\n2026-11-01,10\n");
    const made = await h.call<{ share: { id: string; url: string } }>("POST", "/api/shares", { token: maya.token, body: { volume: "team-data", path: "reports", expiresIn: "24h" } });
    expect(made.status, made.text).toBe(201);

    const context = await launchChromium();
    try {
      const visitor = await context.newPage();
      await visitor.goto(made.body.share.url);
      await visitor.waitForSelector('table[aria-label="Shared files"] tr[data-entry="summary.md"]', WAIT);
      expect(await visitor.textContent("h1")).toBe("reports");
      expect(await visitor.$('tr[data-entry="metrics.csv"]')).toBeNull();
      await visitor.click('tr[data-entry="2026"] button');
      await visitor.waitForSelector('tr[data-entry="november.csv"]', WAIT);
      const [download] = await Promise.all([visitor.waitForEvent("download", WAIT), visitor.click('tr[data-entry="november.csv"] a')]);
      expect(readFileSync(await download.path(), "utf8")).toBe("day,users\n2026-11-01,10\n");
      expect(await visitor.getAttribute("text=Download all as zip", "href")).toContain(`/api/public/shares/${made.body.share.id}/zip?path=2026`);
      await shot(visitor, "share-folder");
    } finally {
      await context.close();
    }
    expect(h.serverErrors).toEqual([]);
  });
});
