/**
 * Sandboxes in headless Chromium against a real server and real JupyterLab: a new user signs in,
 * creates a local sandbox on the Sandboxes page, starts it, opens JupyterLab through Capstan (the
 * sandbox's own origin, a one-time code), runs a cell that writes a file into the home, stops and
 * starts the sandbox again, opens it again and finds the file in the home.
 */
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";
import { ensureWebBuilt, launchChromium, SCREENSHOTS } from "./support/browser.js";

const WAIT = { timeout: 90_000 };

let h: ServerHarness;
let browser: BrowserContext;
let page: Page;
let newcomer: TestUser;

beforeAll(async () => {
  const webRoot = ensureWebBuilt();
  h = await openServer({ webRoot });
  await h.auth.createTeam("research", null);
  newcomer = await h.user("nadia", { research: "editor" });
  browser = await launchChromium();
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (h) {
    for (const row of await h.platform.store.sandboxes.list({ states: ["starting", "running", "stopping"] })) await h.platform.sandboxes.stopIdle(row.id);
    await h.close();
  }
});

const shot = (target: Page, name: string) => target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
const row = 'table[aria-label="My sandboxes"] tr[data-sandbox="lab"]';

/** Clicks Open JupyterLab and waits for JupyterLab to show in the new tab. */
async function openJupyterLab(): Promise<Page> {
  const [lab] = await Promise.all([browser.waitForEvent("page", WAIT), page.click(`${row} >> text=Open JupyterLab`)]);
  await lab.waitForURL(/\.localhost:\d+\/lab/, WAIT);
  await lab.waitForSelector(".jp-DirListing", WAIT);
  return lab;
}

describe("sandboxes in the web UI", () => {
  it("lets a new user create a sandbox, run a cell in JupyterLab, restart it and find their file", { timeout: 300_000 }, async () => {
    await page.goto(`${h.url}/sandboxes`);
    await page.waitForSelector("#username", WAIT);
    await page.fill("#username", newcomer.username);
    await page.fill("#password", newcomer.password);
    await page.click("button[type=submit]");
    await page.waitForSelector("form[aria-label='New sandbox']", WAIT);
    await page.fill("#sandbox-name", "lab");
    await page.click("form[aria-label='New sandbox'] button[type=submit]");
    await page.waitForSelector(`${row} .badge[data-state="stopped"]`, WAIT);
    await page.click(`${row} >> text=Start`);
    await page.waitForSelector(`${row} .badge[data-state="running"]`, WAIT);
    await shot(page, "sandboxes");

    const lab = await openJupyterLab();
    const sandbox = (await h.platform.store.sandboxes.list({ owner: "nadia" }))[0]!;
    expect(new URL(lab.url()).host).toBe(`${sandbox.id}.localhost:${new URL(h.url).port}`);
    // A notebook from the launcher; the cell writes a file into the home and answers 42.
    await lab.click('.jp-LauncherCard[data-category="Notebook"]', WAIT);
    await lab.waitForSelector(".jp-NotebookPanel .jp-Cell .cm-content", WAIT);
    // Run the cell only once the kernel is attached and idle: a cell run before that is skipped
    // (JupyterLab moves on without executing it), which a first, cold kernel start makes likely.
    await lab.waitForSelector(".jp-StatusBar-TextItem >> text=/\\| Idle$/", WAIT);
    await lab.click(".jp-NotebookPanel .jp-Cell .cm-content");
    await lab.keyboard.type("open('kept.txt', 'w').write('written in the sandbox'); 6 * 7");
    await lab.keyboard.press("Shift+Enter");
    await lab.waitForSelector(".jp-OutputArea-output >> text=42", WAIT);
    await shot(lab, "sandbox-jupyterlab");
    await lab.close();

    await page.click(`${row} >> text=Stop`);
    await page.waitForSelector(`${row} .badge[data-state="stopped"]`, WAIT);
    await page.click(`${row} >> text=Start`);
    await page.waitForSelector(`${row} .badge[data-state="running"]`, WAIT);
    const again = await openJupyterLab();
    await again.waitForSelector('.jp-DirListing-item[title*="kept.txt"], .jp-DirListing-item >> text=kept.txt', WAIT);
    await shot(again, "sandbox-restarted");
    await again.close();
    expect(h.serverErrors).toEqual([]);
  });
});
