/**
 * `ticketplane dev` in headless Chromium, through the dev gateway, as a
 * newcomer would use it: the first visit finds the app at zero and waits in
 * the waiting room until a pod is up, then is let in without touching the
 * page; two users get distinct pods and keep them across reloads and over
 * the WebSocket; a third waits at position 1 and is let in automatically
 * when a user leaves; after everyone leaves the app goes to zero and the
 * next visit brings it back through the resolver's cold-start page. One screenshot per page, in test-artifacts/.
 * Bounds are loose (a loaded 2-core machine): they only stop a hang.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { eventually, waitFor } from "../support/wait-for.js";
import { startDev, type Dev } from "../e2e/local-dev-process.js";
import { getJson, tempDir, type TempDir } from "../e2e/serve-process.js";
import { chromiumMissing, launchChromium, screenshot } from "./chromium.js";

const LONG = { timeout: 45_000 };

interface StatusBody {
  apps: { pods: { name: string }[]; queueLength: number; mode: string }[];
}

describe("ticketplane dev in Chromium: the waiting room, stickiness, scale to zero and back", { skip: chromiumMissing }, () => {
  let dir: TempDir;
  let dev: Dev;
  let browser: Browser;
  let gateway: string;
  const users = new Map<string, { context: BrowserContext; page: Page }>();

  const podsNow = async (): Promise<string[]> => ((await getJson(`${dev.process.admin}/api/status`)).body as StatusBody).apps[0]?.pods.map((p) => p.name) ?? [];

  /** A new user (own cookies) opening the demo. */
  const visit = async (name: string): Promise<Page> => {
    const context = await browser.newContext();
    const page = await context.newPage();
    users.set(name, { context, page });
    // A loaded machine can make Check miss the gateway's deadline (an empty 403/503, which Chromium
    // refuses to show): a person would reload, and so does the test, a bounded number of times.
    await eventually(async () => (await page.goto(`${gateway}/demo/`).then(() => true, () => false)) || undefined, { timeoutMs: 30_000, intervalMs: 500, what: `${name}'s first page` });
    return page;
  };
  /** Waits until the page is the demo app (let in by itself), and says which pod it is on. */
  const onPod = async (page: Page): Promise<string> => {
    await page.locator("#pod").waitFor(LONG);
    return (await page.locator("#pod").textContent()) ?? "";
  };
  const leave = async (name: string): Promise<void> => {
    await users.get(name)?.context.close();
    users.delete(name);
  };

  before(async () => {
    dir = await tempDir();
    // ticketplane dev with its dev gateway (Envoy's part) on a free port.
    dev = await startDev(dir);
    gateway = dev.gateway;
    browser = await launchChromium();
  });
  after(async () => {
    for (const name of [...users.keys()]) await leave(name);
    await browser?.close();
    dev?.process.signal("SIGINT");
    await dev?.process.waitExit();
    await dir?.remove();
  });

  it("the first visit finds the app at zero, waits in the waiting room, and is let in once a pod is up", async () => {
    const alice = await visit("alice");
    // At zero the first user waits (the waiting room, or already the pod if it came up very fast).
    if (!alice.url().includes("#") && (await alice.locator("#tp-waiting").count()) > 0) {
      assert.match((await alice.locator("#tp-status").textContent()) ?? "", /You are number 1 of/);
      assert.equal(await alice.locator("#tp-status").getAttribute("aria-live"), "polite");
      await screenshot(alice, "waiting-room-cold-start");
    }
    const pod = await onPod(alice);
    assert.deepEqual(await podsNow(), [pod]);
    await screenshot(alice, "demo-alice");
  });

  it("two users get distinct pods and keep them across reloads and over the WebSocket", async () => {
    const alice = users.get("alice")?.page as Page;
    const bob = await visit("bob");
    const [a, b] = [await onPod(alice), await onPod(bob)];
    assert.notEqual(a, b, "one slot per pod: two users, two pods");
    for (const [page, pod] of [[alice, a], [bob, b]] as const) {
      const before = Number(await page.locator("#count").textContent());
      await page.reload();
      assert.equal(await onPod(page), pod, "the same pod after a reload");
      assert.equal(Number(await page.locator("#count").textContent()), before + 1, "the pod's in-memory counter goes on: same pod");
      await page.locator("#clock", { hasText: `from ${pod}` }).waitFor(LONG);
    }
  });

  it("a third user waits at position 1, sees it live, and is let in automatically when one leaves", async () => {
    const alicePod = await onPod(users.get("alice")?.page as Page);
    const carol = await visit("carol");
    await carol.locator("#tp-position").waitFor(LONG);
    assert.equal(await carol.locator("#tp-position").textContent(), "1");
    // The page polls: it came back (it is in line now), without a reload.
    await carol.evaluate(() => {
      (globalThis as unknown as { marker: boolean }).marker = true;
    });
    await waitFor(async () => ((await getJson(`${dev.process.admin}/api/status`)).body as StatusBody).apps[0]?.queueLength === 1, { timeoutMs: 15_000, what: "carol in line" });
    assert.equal(await carol.evaluate(() => (globalThis as unknown as { marker?: boolean }).marker), true, "still the same page: updated in place");
    await screenshot(carol, "waiting-room-position-1");
    await carol.reload();
    assert.equal(await carol.locator("#tp-position").textContent(), "1", "a reload keeps the place (the queue cookie)");
    const dashboard = await browser.newPage();
    await dashboard.goto(`${dev.process.admin}/`);
    await dashboard.locator("ol.queue li").waitFor(LONG);
    await screenshot(dashboard, "dashboard-dev-full");
    await dashboard.close();

    await leave("alice"); // her WebSocket closes; her ticket goes idle and is released
    assert.equal(await onPod(carol), alicePod, "carol gets the slot alice left, with no click");
    await screenshot(carol, "demo-carol-let-in");
  });

  it("everyone leaves: the app goes to zero, and the next visit brings it back", async () => {
    for (const name of [...users.keys()]) await leave(name);
    await waitFor(async () => (await podsNow()).length === 0, { timeoutMs: 45_000, intervalMs: 200, what: "the app at zero pods" });
    // At zero the route goes to the resolver (mode Proxy); its cold-start page answers the navigation
    // (waitingPageAfter is 0s in this config) and reloads itself once the new pod serves.
    await waitFor(async () => ((await getJson(`${dev.process.admin}/api/status`)).body as StatusBody).apps[0]?.mode === "Proxy", { timeoutMs: 45_000, intervalMs: 200, what: "mode Proxy at zero" });
    const context = await browser.newContext();
    const dave = await context.newPage();
    users.set("dave", { context, page: dave });
    const first = await dave.goto(`${gateway}/demo/`);
    assert.equal(first?.status(), 503);
    assert.match((await first?.text()) ?? "", /<h1>Starting [^<]*demo<\/h1>/, "the resolver's cold-start page");
    await screenshot(dave, "resolver-cold-start");
    const pod = await onPod(dave);
    assert.deepEqual(await podsNow(), [pod]);
    await screenshot(dave, "demo-back-from-zero");
  });
});
