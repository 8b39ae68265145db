import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TicketplaneError } from "../common/errors.js";
import { appKey } from "../config/app-spec.js";
import { LocalRouteSwitch } from "./route-switch.js";
import { rejectionOf } from "../../test/support/rejection.js";

const DEMO = appKey("default", "demo");

describe("LocalRouteSwitch (local mode's scale-to-zero route flip)", () => {
  it("starts in Serve, flips on the version it read, and tells subscribers when the mode changes", async () => {
    const routes = new LocalRouteSwitch([DEMO]);
    let changes = 0;
    const off = routes.subscribe(() => changes++);
    const first = await routes.read(DEMO);
    assert.deepEqual(first, { kind: "found", mode: "Serve", resourceVersion: "1" });
    assert.equal(routes.mode(DEMO), "serve");
    await routes.write(DEMO, undefined, "Proxy", "1");
    assert.deepEqual(await routes.read(DEMO), { kind: "found", mode: "Proxy", resourceVersion: "2" });
    assert.equal(routes.mode(DEMO), "proxy");
    assert.equal(changes, 1);
    // Writing the same mode moves the version on but changes no route.
    await routes.write(DEMO, undefined, "Proxy", "2");
    assert.equal(changes, 1);
    off();
    await routes.write(DEMO, undefined, "Serve", "3");
    assert.equal(changes, 1, "unsubscribed");
    assert.equal(routes.mode(DEMO), "serve");
  });

  it("refuses a write on a stale version (TP_CONFLICT) and an app not in the file (TP_NOT_FOUND), changing nothing", async () => {
    const routes = new LocalRouteSwitch([DEMO]);
    await routes.write(DEMO, undefined, "Proxy", "1");
    const stale = await rejectionOf(routes.write(DEMO, undefined, "Serve", "1"), TicketplaneError);
    assert.ok(stale instanceof TicketplaneError && stale.code === "TP_CONFLICT", String(stale));
    assert.match((stale as Error).message, /route of app default\/demo changed \(resourceVersion 2, not 1\)/);
    assert.equal(routes.mode(DEMO), "proxy");
    const other = appKey("default", "other");
    const missing = await rejectionOf(routes.write(other, undefined, "Proxy", "1"), TicketplaneError);
    assert.ok(missing instanceof TicketplaneError && missing.code === "TP_NOT_FOUND", String(missing));
    assert.deepEqual(await routes.read(other), { kind: "missing", message: "no local app default/other" });
    assert.equal(routes.mode(other), "serve");
  });
});
