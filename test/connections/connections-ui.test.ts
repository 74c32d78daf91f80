/**
 * The Connections page in headless Chromium against a real server and Kafka broker: an editor sets a
 * SASL Kafka connection from the form, sees its credential only as the secret it comes from, and
 * tests it ("ok" with the broker's metadata); a viewer sees the list without Test, Delete or the form.
 */
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKafkaTestenv, type KafkaTestenv } from "../support/kafka-testenv.js";
import { openServer, type ServerHarness, type TestUser } from "../server/support/server-harness.js";
import { ensureWebBuilt, launchChromium, SCREENSHOTS } from "../browser/support/browser.js";

const WAIT = { timeout: 60_000 };
let h: ServerHarness;
let kafka: KafkaTestenv;
let browser: BrowserContext;
let editor: TestUser;
let viewer: TestUser;

beforeAll(async () => {
  const webRoot = ensureWebBuilt();
  [kafka, h] = await Promise.all([startKafkaTestenv(), openServer({ webRoot })]);
  const admin = await h.user("ada", { streams: "admin" });
  editor = await h.user("eve", { streams: "editor" });
  viewer = await h.user("vic", { streams: "viewer" });
  expect((await h.call("PUT", "/api/secrets/streams/kafka", { token: admin.token, body: { data: { password: kafka.saslPassword } } })).status).toBe(200);
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await kafka?.close();
});

async function signIn(user: TestUser): Promise<Page> {
  await browser.clearCookies();
  const page = await browser.newPage();
  await page.goto(`${h.url}/connections`);
  await page.waitForSelector("#username", WAIT);
  await page.fill("#username", user.username);
  await page.fill("#password", user.password);
  await page.click("button[type=submit]");
  return page;
}

describe("the Connections page", () => {
  it("lets an editor set and test a Kafka connection with its password masked, and a viewer only look", { timeout: 180_000 }, async () => {
    const page = await signIn(editor);
    await page.waitForSelector("form[aria-label='Set a connection']", WAIT);
    await page.fill("#connection-name", "events");
    await page.selectOption("#connection-kind", "kafka");
    await page.fill("#connection-settings", `bootstrap_servers=${kafka.saslBootstrap}\nsasl_mechanism=PLAIN\nsasl_username=${kafka.saslUsername}`);
    await page.fill("#connection-secrets", "sasl_password=kafka/password");
    await page.click("form[aria-label='Set a connection'] button[type=submit]");
    const row = 'table[aria-label="Connections"] tr:has-text("events")';
    await page.waitForSelector(row, WAIT);
    expect(await page.textContent(row)).toContain("••• from secret kafka/password");
    expect(await page.content()).not.toContain(kafka.saslPassword);
    await page.click(`${row} button:has-text("Test")`);
    await page.waitForSelector(`${row} [role=status]`, WAIT);
    expect(await page.textContent(`${row} [role=status]`)).toMatch(/^ok: metadata from /);
    await page.screenshot({ path: join(SCREENSHOTS, "connections.png"), fullPage: true });

    const viewerPage = await signIn(viewer);
    await viewerPage.waitForSelector(row, WAIT);
    expect(await viewerPage.$(`${row} button`)).toBeNull();
    expect(await viewerPage.$("form[aria-label='Set a connection']")).toBeNull();
    expect(h.serverErrors).toEqual([]);
  });
});
