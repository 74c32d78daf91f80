/**
 * The model registry and deployments in headless Chromium against a real server: a team editor
 * finds the model, its versions with lineage (the run and task linked, params and metrics) and
 * where each version is deployed, moves the production alias from the page, and follows the link to
 * the deployment, whose local replica (a real `capstan serve` run by the deployment controller)
 * rolls to the new version. An editor creates a deployment from the Deploy form (its own checks and
 * the API's error shown at the field) and sees its replica become ready; a viewer sees no form.
 */
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/cli/client.js";
import { DeploymentController } from "../../src/serving/deployments/index.js";
import { capstanCommand, taskBaseEnv } from "../../src/wiring/index.js";
import { tempDir } from "../support/platform-harness.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";
import { writeMar } from "../serving/support/mar-builder.js";
import { python } from "../serving/support/serve-harness.js";
import { ensureWebBuilt, launchChromium, SCREENSHOTS } from "./support/browser.js";

const WAIT = { timeout: 90_000 };
const HANDLER = "def handle(data, context):\n    return [{'ok': True} for _ in (data or [])]\n";
const PIPELINES = {
  "train.yaml": `id: train
team: ml
params:
  factors: { type: integer, default: 8 }
tasks:
  publish:
    command: >-
      mkdir -p "$CAPSTAN_ARTIFACTS_DIR/model/MAR-INF" &&
      printf 'def handle(data, context):\\n    return data\\n' > "$CAPSTAN_ARTIFACTS_DIR/model/handler.py" &&
      printf '{"runtime": "python", "model": {"modelName": "users", "handler": "handler.py", "modelVersion": "2.0"} }' > "$CAPSTAN_ARTIFACTS_DIR/model/MAR-INF/MANIFEST.json" &&
      printf '{"model_dir": "%s", "precision": 0.93}' "$CAPSTAN_ARTIFACTS_DIR/model" > "$CAPSTAN_OUTPUT"
`,
};

let h: ServerHarness;
let browser: BrowserContext;
let page: Page;
let editor: TestUser;
let viewer: TestUser;
let controller: DeploymentController;
let runId: string;

beforeAll(async () => {
  const webRoot = ensureWebBuilt();
  h = await openServer({ webRoot, pipelines: PIPELINES });
  editor = await h.user("maya", { ml: "editor" });
  viewer = await h.user("vic", { ml: "viewer" });
  const admin = new HttpClient(h.url, h.admin.token);
  const dir = tempDir();
  writeMar(join(dir, "users.mar"), { modelName: "users", handler: "handler.py", files: { "handler.py": HANDLER } });
  await admin.registerModel("users", join(dir, "users.mar"), { team: "ml" });
  const run = await admin.trigger("train", { factors: 16 }, {});
  runId = run.id;
  expect((await admin.waitForRun(run.id, () => undefined)).state).toBe("success");
  const outputs = (await admin.getTask(run.id, "publish")).outputs as { model_dir: string };
  await admin.registerModel("users", outputs.model_dir, { run: run.id, task: "publish" });
  await admin.setModelAlias("users", 1, "production");
  await admin.createDeployment({ name: "users-prod", model: "users", ref: "production", replicas: 1 });
  controller = new DeploymentController({ store: h.platform.store, home: h.platform.config.home, command: capstanCommand(), env: { ...taskBaseEnv(), CAPSTAN_PYTHON: python }, log: { info: () => undefined, warn: () => undefined }, intervalMs: 200 });
  controller.start();
  browser = await launchChromium();
  page = await browser.newPage();
}, 240_000);

afterAll(async () => {
  await controller?.stop();
  await browser?.close();
  await h?.close();
});

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

describe("the registry in the web UI", () => {
  it("shows versions with lineage and deployments, moves an alias, and the deployment's replica rolls", { timeout: 300_000 }, async () => {
    await page.goto(`${h.url}/models`);
    await page.waitForSelector("#username", WAIT);
    await page.fill("#username", editor.username);
    await page.fill("#password", editor.password);
    await page.click("button[type=submit]");
    await page.click("text=users", WAIT);
    await page.waitForSelector('table[aria-label="Versions"] tr[data-version="2"]', WAIT);
    const v2 = 'table[aria-label="Versions"] tr[data-version="2"]';
    const v1 = 'table[aria-label="Versions"] tr[data-version="1"]';
    expect(await page.textContent(v2)).toContain("precision=0.93");
    expect(await page.textContent(v2)).toContain("factors=16");
    expect(await page.getAttribute(`${v2} a[href="/runs/${runId}"]`, "href")).toBe(`/runs/${runId}`);
    expect(await page.getAttribute(`${v2} a[href="/runs/${runId}/tasks/publish"]`, "href")).toBe(`/runs/${runId}/tasks/publish`);
    expect(await page.textContent(v1)).toContain("registered by hand");
    await page.waitForSelector(`${v1} a[href="/deployments/users-prod"]`, WAIT);
    expect(await page.textContent(v1)).toContain("production");
    await shot("models");

    await page.selectOption("form[aria-label='Move an alias'] select", "2");
    await page.click("form[aria-label='Move an alias'] button[type=submit]");
    await page.waitForSelector(`${v2} >> text=production`, WAIT);
    await page.waitForSelector(`${v2} a[href="/deployments/users-prod"]`, WAIT);
    await page.click(`${v2} a[href="/deployments/users-prod"]`);
    await page.waitForSelector('[data-testid="deployment-state"] >> text=ready', WAIT);
    await page.waitForSelector('table[aria-label="Replicas"] >> text=http://127.0.0.1', WAIT);
    expect(await page.textContent("dl.facts")).toContain("version 2 (rollback goes to version 1)");
    const replicas = await page.textContent('table[aria-label="Replicas"] tbody');
    expect(replicas).toContain("ready");
    await shot("deployment");
    expect(h.serverErrors).toEqual([]);
  });

  it("creates a deployment from the Deploy form, with the form's checks and the API's error at the field", { timeout: 300_000 }, async () => {
    await page.goto(`${h.url}/deployments`);
    await page.click("text=Deploy a model", WAIT);
    const form = "form[aria-label='Create a deployment']";
    await page.waitForSelector(`${form} #deploy-model option[value="users"]`, { ...WAIT, state: "attached" });
    await page.fill("#deploy-name", "Users_V1");
    await page.fill("#deploy-replicas", "40");
    await page.click(`${form} button[type=submit]`);
    expect(await page.textContent("#deploy-name-help")).toContain("a lowercase letter");
    expect(await page.textContent("#deploy-replicas-help")).toContain("a whole number from 0 to 32");
    expect(await page.textContent("#deploy-model-help")).toContain("choose a model");

    await page.selectOption("#deploy-model", "users");
    await page.waitForSelector('#deploy-ref option[value="1"]', { ...WAIT, state: "attached" });
    await page.selectOption("#deploy-ref", "1");
    await page.fill("#deploy-replicas", "1");
    // A name that is taken: the API's 409 is shown at the name.
    await page.fill("#deploy-name", "users-prod");
    await page.click(`${form} button[type=submit]`);
    await page.waitForSelector('#deploy-name-help >> text=is taken', WAIT);
    await shot("deploy-form");

    await page.fill("#deploy-name", "users-v1");
    await page.click(`${form} button[type=submit]`);
    await page.waitForURL(`${h.url}/deployments/users-v1`, WAIT);
    await page.waitForSelector('[data-testid="deployment-state"] >> text=ready', WAIT);
    expect(await page.textContent("dl.facts")).toContain("users@1 → version 1");
    await page.waitForSelector('table[aria-label="Replicas"] >> text=http://127.0.0.1', WAIT);
    // The replicas ask for the deployment's inference key; an editor reads it on the page.
    expect(await page.textContent("dl.facts")).toContain("on: replicas ask for the inference key");
    await page.click("text=Show inference key");
    await page.waitForSelector('[data-testid="inference-key"]', WAIT);
    const key = await page.textContent('[data-testid="inference-key"]');
    expect(key).toBe((await new HttpClient(h.url, editor.token).deploymentKey("users-v1")).key);
    expect(await page.textContent("pre")).toContain(`-H 'authorization: Bearer ${key}'`);

    // From the model's page the form opens at the version's alias.
    await page.goto(`${h.url}/models/users`);
    await page.click('table[aria-label="Versions"] tr[data-version="2"] button:has-text("Deploy production")', WAIT);
    expect(await page.inputValue("#deploy-ref")).toBe("production");
    expect(await page.inputValue("#deploy-model")).toBe("users");
    await page.click("form[aria-label='Create a deployment'] button:has-text('Cancel')");
    expect(h.serverErrors).toEqual([]);
  });

  it("offers no Deploy form to a viewer of the team", { timeout: 120_000 }, async () => {
    await browser.clearCookies();
    await page.goto(`${h.url}/models/users`);
    await page.waitForSelector("#username", WAIT);
    await page.fill("#username", viewer.username);
    await page.fill("#password", viewer.password);
    await page.click("button[type=submit]");
    await page.waitForSelector("text=Sign out", WAIT);
    await page.goto(`${h.url}/models/users`);
    await page.waitForSelector('table[aria-label="Versions"] tr[data-version="2"]', WAIT);
    expect(await page.locator("button:has-text('Deploy')").count()).toBe(0);
    expect(await page.locator("form[aria-label='Move an alias']").count()).toBe(0);
    await page.goto(`${h.url}/deployments`);
    await page.waitForSelector("text=users-prod", WAIT);
    expect(await page.locator("button:has-text('Deploy')").count()).toBe(0);
    await page.goto(`${h.url}/deployments/users-v1`);
    await page.waitForSelector('[data-testid="deployment-state"]', WAIT);
    expect(await page.locator("text=Show inference key").count()).toBe(0);
  });
});
