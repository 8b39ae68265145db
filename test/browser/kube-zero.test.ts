/**
 * Scale from zero on the Kubernetes path, in headless Chromium: the world of
 * test/kube/zero-world.ts (the reconciler over the test API server and its
 * ReplicaSet controller, the resolver, a real app process), the app idled to
 * zero, and a person opening the app's page at the resolver (where the
 * ingress gateway sends it once Check let it through untouched). They see
 * the resolver's waiting page, which follows the pod's progress and reloads
 * itself into the app once the pod answers, with a ticket cookie set. The
 * reconciler's timers run on the fake clock, ticked while the page waits.
 * Screenshots in test-artifacts/.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useKubeApi } from "../support/kube-api/harness.js";
import { APP, world } from "../kube/zero-world.js";
import { chromiumMissing, launchChromium, screenshot } from "./chromium.js";

const kube = useKubeApi();
/** Real ms per fake second while the page's own (real) timers poll: the app's hold (2 min) and cooldown stay far off. */
const BROWSER_PACE = 100;

describe("the resolver's waiting page in Chromium, Kubernetes mode", { skip: chromiumMissing }, () => {
  it("a visit at zero gets the waiting page, sees the pod's progress, and is let into the app without touching the page", async () => {
    // A cooldown of 2 min (fake): at BROWSER_PACE that is 12 s of real time for Chromium to reload once the pod
    // answers. With 10 s (1 s real) a reload slower than that lets the app idle back to zero first.
    const w = await world(kube, { waitingPageAfter: "0s", podCooldown: "120s" });
    const browser = await launchChromium();
    try {
      w.markReady();
      const first = await w.app("web-1");
      await w.until("the pod in the ticket core", () => w.core.pods(APP).some((p) => p.ready));
      await w.until("replicas 0", async () => (await w.replicas()) === 0);
      await first.stop();
      await w.until("the pod gone", () => w.core.pods(APP).length === 0);

      const page = await browser.newPage();
      let answered = false;
      const navigation = page.goto(`http://127.0.0.1:${String(w.resolver.address().port)}/web/`).finally(() => (answered = true));
      await w.until("the waiting page", () => answered);
      const response = await navigation;
      assert.equal(response?.status(), 503);
      assert.equal(await page.locator("h1").textContent(), "Starting default/web");
      await screenshot(page, "kube-resolver-waiting-page");

      // The held request woke the app: a pod is asked for, scheduled, Ready; the page's poll follows.
      await w.until("replicas 1", async () => (await w.replicas()) === 1);
      await w.until("the new pod", () => w.podsOf().length === 1);
      // Ready as the watch sees it, but the app does not listen yet: the page says the pod is being checked.
      w.markReady();
      await w.until("the page shows the pod Ready and being checked", async () => (await page.locator("li.now").textContent().catch(() => "")) === "Pod ready, checking it answers", BROWSER_PACE);
      await screenshot(page, "kube-resolver-waiting-page-ready");
      await w.app("web-2");
      const body = async (): Promise<string> => (await page.locator("body").textContent().catch(() => "")) ?? "";
      await w.until("the page reloaded into the app", async () => (await body()).startsWith("web-2 GET /"), BROWSER_PACE);
      const pod = w.core.pods(APP)[0]?.name ?? "";
      assert.equal(await body(), `web-2 GET / pod=${pod}`, "the app itself, on the pod that came up");
      const cookies = await page.context().cookies();
      assert.ok(cookies.some((c) => c.name === "ticketplane" && c.value.startsWith("t1.")), "with a ticket from the resolver");
      await screenshot(page, "kube-resolver-back-from-zero");
    } finally {
      await browser.close();
      await w.stop();
    }
  });
});
