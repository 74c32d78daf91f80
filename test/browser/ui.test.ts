/**
 * The web UI in headless Chromium against a real server: sign in, trigger a run with a param from
 * the generated form, watch its tasks turn green live (no reload), open a failing task's log, clear
 * it and see it run again; screenshots of the main pages go to test-results/screenshots/.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";
import { ensureWebBuilt, launchChromium, SCREENSHOTS } from "./support/browser.js";

const WAIT = { timeout: 60_000 };
const gates = tempDir("capstan-ui-gates-");
const GATE = join(gates, "go");
const FIX = join(gates, "fixed");

const notebook = {
  cells: [
    { cell_type: "markdown", metadata: {}, source: ["# Daily KPIs\n", "Computed for the run's logical date."] },
    { cell_type: "code", metadata: { tags: ["parameters"] }, execution_count: null, outputs: [], source: ["rows = 10"] },
    { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: ["total = sum(range(rows))\n", "print(f'{rows} rows, total {total}')\n", "total"] },
  ],
  metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
  nbformat: 4,
  nbformat_minor: 5,
};
writeFileSync(join(gates, "kpis.ipynb"), JSON.stringify(notebook));

const PIPELINES = {
  "ingest.yaml": `id: ingest
team: analytics
description: Load the day's events, waiting for the upstream export.
params:
  rows: { type: integer, default: 10, minimum: 1, description: rows to load }
  mode: { type: string, default: fast, enum: [fast, thorough] }
tasks:
  extract: { command: 'while [ ! -f ${GATE} ]; do sleep 0.05; done; echo "extracted {{ params.rows }} rows ({{ params.mode }})"' }
  transform: { command: "echo transformed", depends_on: [extract] }
  load: { command: "echo loaded", depends_on: [transform] }
`,
  "flaky.yaml": `id: flaky
team: analytics
description: Fails until its input is fixed.
tasks:
  prepare: { command: "echo preparing" }
  load: { command: 'echo "loading"; [ -f ${FIX} ] || { echo "the input is not ready yet" >&2; exit 3; }; echo "loaded the input"', depends_on: [prepare] }
  publish: { command: "echo published", depends_on: [load] }
`,
  "daily.yaml": `id: daily-report
team: analytics
description: Builds the daily KPI report from raw events.
params:
  fail: { type: string, default: none, enum: [none, validate, train] }
tasks:
  extract_events: { command: "echo events" }
  extract_users: { command: "echo users" }
  clean: { command: "echo clean", depends_on: [extract_events, extract_users] }
  validate: { command: '[ "{{ params.fail }}" != validate ]', depends_on: [clean] }
  features: { command: "echo features", depends_on: [validate] }
  train: { command: '[ "{{ params.fail }}" != train ]', depends_on: [features] }
  evaluate: { command: "echo evaluate", depends_on: [train] }
  report: { notebook: ${join(gates, "kpis.ipynb")}, parameters: { rows: 12 }, depends_on: [evaluate] }
  notify: { command: "echo notified", depends_on: [report], trigger_rule: all_done }
`,
};

let h: ServerHarness;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  const webRoot = ensureWebBuilt();
  h = await openServer({ pipelines: PIPELINES, webRoot });
  browser = await launchChromium();
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** What the page functions below use of the browser's globals (the tests compile without DOM types). */
interface PageGlobals {
  document: { querySelector(selector: string): { textContent: string | null } | null };
}

/** Waits until the log viewer shows `needle` (the expression runs in the page). */
async function logShows(needle: string): Promise<void> {
  // A function, not a string: the app's CSP forbids eval, which string predicates need.
  await page.waitForFunction(
    (text: string) => (globalThis as unknown as PageGlobals).document.querySelector('[data-testid="log"]')?.textContent?.includes(text) ?? false,
    needle,
    WAIT,
  );
}

async function text(selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent()) ?? "";
}

describe("the web UI", () => {
  it("signs in with a password", async () => {
    await page.goto(`${h.url}/pipelines`);
    await page.waitForSelector("#username", WAIT);
    await shot("login");
    await page.fill("#username", "root");
    await page.fill("#password", "wrong-password");
    await page.click("button[type=submit]");
    await page.waitForSelector(".error-note", WAIT);
    expect(await text(".error-note")).toContain("wrong username or password");
    await page.fill("#password", h.admin.password);
    await page.click("button[type=submit]");
    await page.waitForSelector("table.pipelines", WAIT);
    expect(await page.locator("table.pipelines tbody tr").count()).toBe(3);
  });

  it("triggers a run with a param from the form and shows its tasks turning green live", async () => {
    await page.goto(`${h.url}/pipelines/ingest`);
    await page.waitForSelector("text=Trigger run", WAIT);
    await page.keyboard.press("t");
    await page.waitForSelector("dialog[open] #param-rows", WAIT);
    await shot("trigger-form");
    await page.fill("#param-rows", "0");
    await page.click("dialog[open] button[type=submit]");
    // The API refuses 0 (minimum 1) and the message shows at the field.
    await page.waitForSelector("dialog[open] .field.has-error", WAIT);
    expect(await text("dialog[open] .field.has-error .help")).toContain("below the minimum 1");
    await page.fill("#param-rows", "42");
    await page.selectOption("#param-mode", "thorough");
    await page.click("dialog[open] button[type=submit]");
    await page.waitForURL(/\/runs\/ingest-/, WAIT);
    await page.evaluate('window.marker = "same page"');
    await page.waitForSelector('tr[data-task="extract"][data-state="running"]', WAIT);
    expect(await text("pre.json")).toContain('"rows": 42');
    await page.waitForSelector('[data-testid="dag"] .dag-node[data-task="extract"][data-state="running"]', WAIT);
    writeFileSync(GATE, "");
    for (const task of ["extract", "transform", "load"]) await page.waitForSelector(`tr[data-task="${task}"][data-state="success"]`, WAIT);
    await page.waitForSelector('h1 .badge[data-state="success"]', WAIT);
    await page.waitForSelector('[data-testid="dag"] .dag-node[data-task="load"][data-state="success"]', WAIT);
    // Every change arrived over the live stream: the page was never reloaded.
    expect(await page.evaluate("window.marker")).toBe("same page");
    await shot("run");
    await page.click('tr[data-task="extract"] a');
    await logShows("extracted 42 rows (thorough)");
  });

  it("opens a failing task's log from the grid, clears it and sees it run again", async () => {
    const trigger = await h.call<{ id: string }>("POST", "/api/pipelines/flaky/runs", { token: h.admin.token, body: {} });
    expect((await h.waitForRun(trigger.body.id)).state).toBe("failed");
    await page.goto(`${h.url}/pipelines/flaky`);
    await page.waitForSelector('.run-grid a.cell[data-state="failed"]', WAIT);
    await page.click('.run-grid a.cell[data-state="failed"]');
    await page.waitForURL(/\/tasks\/load$/, WAIT);
    await page.waitForSelector('[data-testid="failure-reason"]', WAIT);
    await logShows("the input is not ready yet");
    await shot("task-failed");
    writeFileSync(FIX, "");
    await page.click("text=Clear…");
    await page.waitForSelector("dialog[open]", WAIT);
    expect(await page.isChecked("dialog[open] input[type=checkbox]")).toBe(true);
    await page.click("dialog[open] button[type=submit]");
    await page.waitForSelector('h1 .badge[data-state="success"]', WAIT);
    await page.waitForSelector('button[role="tab"]:has-text("try 2")', WAIT);
    await logShows("loaded the input");
    const run = await h.waitForRun(trigger.body.id);
    expect(run.state).toBe("success");
  });

  it("draws the grid and the graph of a pipeline with many runs, and the other pages", async () => {
    const day = 24 * 3600_000;
    const start = Date.parse("2026-03-01T06:00:00Z");
    const outcomes = ["none", "none", "none", "validate", "none", "none", "train", "none", "none", "none", "none", "validate", "none", "none"];
    for (const [i, fail] of outcomes.entries()) {
      const run = await h.call<{ id: string }>("POST", "/api/pipelines/daily-report/runs", { token: h.admin.token, body: { params: { fail }, logical_date: new Date(start + i * day).toISOString() } });
      await h.waitForRun(run.body.id, 120_000);
    }
    await page.goto(`${h.url}/pipelines/daily-report`);
    await page.waitForSelector('.run-grid[data-runs="14"]', WAIT);
    expect(await page.locator(".run-grid a.cell").count()).toBe(14 * 9);
    expect(await page.locator('.run-grid a.cell[data-state="upstream_failed"]').count()).toBeGreaterThan(0);
    // Arrow keys move between cells; Enter opens the task.
    await page.locator('.run-grid a[tabindex="0"]').focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    const focused = await page.evaluate('document.activeElement?.getAttribute("href")');
    expect(focused).toMatch(/\/tasks\/extract_users$/);
    await shot("grid");
    await page.click('button[role="tab"]:has-text("Graph")');
    await page.waitForSelector('[data-testid="dag"] .dag-node[data-task="notify"]', WAIT);
    // Every node is a link: Tab reaches each task of the graph.
    expect(await page.locator('[data-testid="dag"] a.dag-node-id').count()).toBe(9);
    await shot("graph");
    const runs = await h.call<{ runs: { id: string }[] }>("GET", "/api/runs?pipeline=daily-report&limit=1", { token: h.admin.token });
    const latest = runs.body.runs[0]?.id ?? "";
    await page.goto(`${h.url}/runs/${latest}/tasks/report`);
    await page.click('button[role="tab"]:has-text("Output notebook")');
    const frame = page.frameLocator("iframe.notebook-frame");
    await frame.locator("text=12 rows, total 66").waitFor(WAIT);
    expect(await page.getAttribute("iframe.notebook-frame", "sandbox")).toBe("");
    await shot("notebook");
    for (const [name, path, ready] of [
      ["pipelines", "/pipelines", "table.pipelines"],
      ["runs", "/runs", "table"],
      ["pools", "/pools", "table"],
      ["account", "/account", "text=API tokens"],
      ["admin", "/admin", "text=New user"],
    ] as const) {
      await page.goto(`${h.url}${path}`);
      await page.waitForSelector(ready, WAIT);
      await shot(name);
    }
  });

  it("sets a team's secret, shows its keys but never its value, and deletes it", async () => {
    await page.goto(`${h.url}/secrets`);
    await page.waitForSelector("text=No secrets yet.", WAIT);
    await page.selectOption("#secret-team", "analytics");
    await page.fill("#secret-name", "warehouse");
    await page.fill("#secret-key-0", "user");
    await page.fill("#secret-value-0", "etl-loader");
    await page.click('button:has-text("Add a key")');
    await page.fill("#secret-key-1", "password");
    await page.fill("#secret-value-1", "pa55-w0rd-value");
    await page.click('form[aria-label="Set a secret"] button[type=submit]');
    await page.waitForSelector('table[aria-label="Secrets"] td:has-text("warehouse")', WAIT);
    expect(await text('table[aria-label="Secrets"] tbody tr')).toContain("userpassword");
    expect(await page.inputValue("#secret-value-0")).toBe("");
    expect(await page.content()).not.toContain("pa55-w0rd-value");
    const listed = await h.call<{ secrets: { team: string; name: string; keys: string[] }[] }>("GET", "/api/secrets", { token: h.admin.token });
    expect(listed.body.secrets).toEqual([expect.objectContaining({ team: "analytics", name: "warehouse", keys: ["user", "password"] })]);
    await shot("secrets");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click('table[aria-label="Secrets"] button:has-text("Delete")');
    await page.waitForSelector("text=No secrets yet.", WAIT);
    expect((await h.call<{ secrets: unknown[] }>("GET", "/api/secrets", { token: h.admin.token })).body.secrets).toEqual([]);
  });
});
