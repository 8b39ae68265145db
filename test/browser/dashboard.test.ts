/**
 * The dashboard in headless Chromium, against the real CLI in standalone
 * mode: pods appear and leave on the page, without a reload, as the config
 * file's pod list changes; the empty state reads as one.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import type { ServeProcess, TempDir } from "../e2e/serve-process.js";
import { configText, startServe, tempDir } from "../e2e/serve-process.js";
import { chromiumMissing, launchChromium, screenshot } from "./chromium.js";

const LONG = { timeout: 30_000 };

describe("dashboard in Chromium (standalone mode)", { skip: chromiumMissing }, () => {
  let tmp: TempDir;
  let serve: ServeProcess;
  let browser: Browser;
  let file: string;

  before(async () => {
    tmp = await tempDir();
    file = await tmp.write("tp.yaml", configText([{ name: "pod-a", port: 8081, ready: true }]));
    serve = await startServe(file);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await serve?.kill();
    await tmp?.remove();
  });

  it("shows pods appearing and leaving as the config file changes, live", async () => {
    const page = await browser.newPage();
    await page.goto(`${serve.admin}/`);
    await page.locator("#connection", { hasText: "Live" }).waitFor(LONG);
    const app = page.locator('article[data-app="default/shiny"]');
    await app.waitFor(LONG);
    assert.equal(await app.locator(".badge").textContent(), "Serve");
    await app.locator('tr[data-pod="pod-a"]').waitFor(LONG);
    assert.equal(await app.locator("tr[data-pod]").count(), 1);
    await page.evaluate(() => {
      (globalThis as unknown as { marker: boolean }).marker = true;
    });

    await writeFile(file, configText([{ name: "pod-a", port: 8081, ready: true }, { name: "pod-b", port: 8082, ready: true }]));
    await app.locator('tr[data-pod="pod-b"]').waitFor(LONG);
    assert.match((await app.locator('tr[data-pod="pod-b"]').textContent()) ?? "", /127\.0\.0\.1:8082/);
    await screenshot(page, "dashboard-two-pods");

    await writeFile(file, configText([{ name: "pod-b", port: 8082, ready: true }]));
    await app.locator('tr[data-pod="pod-a"]').waitFor({ state: "detached", ...LONG });
    const rows = app.locator("tr[data-pod]");
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute("data-pod"), "pod-b");
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: boolean }).marker), true, "updated in place, never reloaded");

    await writeFile(file, configText([]).replace(/apps:[\s\S]*$/, "apps: []\n"));
    await page.locator("#apps", { hasText: "No apps yet." }).waitFor(LONG);
    assert.match((await page.locator("#gateways").textContent()) ?? "", /No gateway connected/);
    await screenshot(page, "dashboard-empty");
    await page.close();
  });
});
