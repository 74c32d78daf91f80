/**
 * Links from runs to their outputs on the Files page, in headless Chromium against a real server:
 * a team member opens a run, follows "Artifacts of this run in Files" to the runs volume's
 * artifacts folder and downloads nothing but sees the task's file; from the task page, "Output
 * notebook in Files" opens the notebook's preview there. A member of another team following the
 * same link is told there is nothing there. Screenshots go to test-results/screenshots/.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";
import { ensureWebBuilt, launchChromium, SCREENSHOTS } from "./support/browser.js";

const WAIT = { timeout: 60_000 };

// A task that leaves an artifact and names an output notebook in its attempt folder.
const TASK_SCRIPT = `
d=$(dirname "$CAPSTAN_OUTPUT")
printf 'weights\\n' > "$CAPSTAN_ARTIFACTS_DIR/weights.txt"
printf '{"cells":[{"cell_type":"markdown","metadata":{},"source":["# Training report"]}],"metadata":{},"nbformat":4,"nbformat_minor":5}' > "$d/output.ipynb"
printf '{"notebook":"%s"}' "$d/output.ipynb" > "$CAPSTAN_OUTPUT"
`;

let h: ServerHarness;
let browser: BrowserContext;
let page: Page;
let maya: TestUser;
let otto: TestUser;
let runId: string;

beforeAll(async () => {
  const webRoot = ensureWebBuilt();
  const dir = tempDir("capstan-run-links-");
  writeFileSync(join(dir, "task.sh"), TASK_SCRIPT);
  h = await openServer({ webRoot, pipelines: { "train.yaml": `id: train\nteam: ml\ntasks:\n  fit: { command: sh ${join(dir, "task.sh")} }\n` } });
  maya = await h.user("maya", { ml: "viewer" });
  otto = await h.user("otto", { finance: "editor" });
  const run = await h.call<{ id: string }>("POST", "/api/pipelines/train/runs", { token: h.admin.token, body: {} });
  expect(run.status).toBe(201);
  expect((await h.waitForRun(run.body.id, 60_000)).state).toBe("success");
  runId = run.body.id;
  browser = await launchChromium();
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const shot = (target: Page, name: string) => target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

async function signIn(target: Page, user: TestUser, url: string): Promise<void> {
  await target.goto(url);
  await target.waitForSelector("#username", WAIT);
  await target.fill("#username", user.username);
  await target.fill("#password", user.password);
  await target.click("button[type=submit]");
}

describe("links from runs to Files", () => {
  it("opens a run's artifacts folder and a task's output notebook on the Files page", { timeout: 180_000 }, async () => {
    await signIn(page, maya, `${h.url}/runs/${encodeURIComponent(runId)}`);
    await page.getByRole("link", { name: "Artifacts of this run in Files" }).click(WAIT);
    await page.waitForSelector('tr[data-entry="weights.txt"]', WAIT);
    expect(new URL(page.url()).pathname).toBe(`/files/runs/train/${encodeURIComponent(runId)}/artifacts`);
    expect(await page.textContent("h1")).toBe(`runs:train/${runId}/artifacts`);
    // Read-only for everyone: no upload, no delete.
    expect(await page.getByRole("button", { name: /upload/i }).count()).toBe(0);
    await shot(page, "files-run-artifacts");

    await page.goto(`${h.url}/runs/${encodeURIComponent(runId)}/tasks/fit`);
    await page.getByRole("link", { name: "Output notebook in Files" }).click(WAIT);
    await page.waitForSelector('tr[data-entry="fit.ipynb"]', WAIT);
    const frame = page.frameLocator("iframe");
    await frame.getByText("Training report").waitFor(WAIT);
    await shot(page, "files-run-notebook");
  });

  it("tells a member of another team that the run's folder is not there", { timeout: 120_000 }, async () => {
    await browser.clearCookies();
    const otherPage = await browser.newPage();
    await signIn(otherPage, otto, `${h.url}/files/runs/train/${encodeURIComponent(runId)}/artifacts`);
    await otherPage.getByText(/nothing at/i).waitFor(WAIT);
    expect(await otherPage.locator('tr[data-entry="weights.txt"]').count()).toBe(0);
    await otherPage.close();
  });
});
