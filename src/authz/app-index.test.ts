import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { type AppSpec, DEFAULTS } from "../config/app-spec.js";
import { TicketCore } from "../tickets/index.js";
import { AppIndex } from "./app-index.js";

function spec(name: string, pathPrefix: string, gateway: string, host?: string): AppSpec {
  return { ...DEFAULTS, source: "file", namespace: "ns", name, pathPrefix, gateway, ...(host === undefined ? {} : { host }) };
}

/** A ticket core that counts how often its apps are read. */
class CountingCore extends TicketCore {
  reads = 0;

  constructor(apps: readonly AppSpec[]) {
    super({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
    this.setApps(apps);
  }

  override apps(): readonly AppSpec[] {
    this.reads++;
    return super.apps();
  }
}

describe("AppIndex", () => {
  const apps = [spec("root", "/", "default"), spec("blue-a", "/a/", "blue"), spec("blue-host", "/", "blue", "b.example"), spec("a", "/a/", "default")];

  it("matches a request against its gateway group's apps only", () => {
    const index = new AppIndex(new CountingCore(apps));
    assert.equal(index.match("default", "x.org", "/a/1")?.key, "ns/a");
    assert.equal(index.match("blue", "x.org", "/a/1")?.key, "ns/blue-a");
    assert.equal(index.match("blue", "x.org", "/b/"), undefined, "blue has no host-less app at /");
    assert.equal(index.match("blue", "B.example:443", "/a/1")?.key, "ns/blue-host");
    assert.equal(index.match("default", "b.example", "/a/1")?.key, "ns/a", "blue's host is not default's");
    assert.equal(index.match("green", "x.org", "/"), undefined, "a group without apps matches nothing");
  });

  it("matches across every group, groups in the order their first app appears (the resolver's lookup)", () => {
    const index = new AppIndex(new CountingCore(apps));
    assert.equal(index.matchAnyGroup("x.org", "/a/1")?.key, "ns/a", "default's /a/ before blue's: default's first app comes first");
    assert.equal(index.matchAnyGroup("b.example", "/z"), index.match("default", "b.example", "/z"), "default's root app first");
    const blueFirst = new AppIndex(new CountingCore([spec("blue-a", "/a/", "blue"), spec("a", "/a/", "default")]));
    assert.equal(blueFirst.matchAnyGroup("x.org", "/a/1")?.key, "ns/blue-a");
    assert.equal(new AppIndex(new CountingCore([spec("blue-a", "/a/", "blue")])).matchAnyGroup("x.org", "/b/"), undefined);
  });

  it("hands back the spec and the key built once", () => {
    const index = new AppIndex(new CountingCore(apps));
    const first = index.match("default", "x.org", "/a/");
    assert.equal(first?.spec.name, "a");
    assert.equal(index.match("default", "y.org", "/a/b"), first);
  });

  it("rebuilds its tables after an apps change only, never per request", () => {
    const core = new CountingCore(apps);
    const index = new AppIndex(core);
    for (let i = 0; i < 5; i++) index.match("default", "x.org", "/a/");
    assert.equal(core.reads, 1);
    core.setPods("ns/a", [{ name: "p", host: "10.0.0.1", port: 80, ready: true }]);
    index.match("default", "x.org", "/a/");
    assert.equal(core.reads, 1, "other changes keep the tables");
    core.setApps([spec("b", "/b/", "default")]);
    assert.equal(index.match("default", "x.org", "/a/"), undefined);
    assert.equal(index.match("default", "x.org", "/b/")?.key, "ns/b");
    assert.equal(core.reads, 2);
    index.close();
    core.setApps(apps);
    assert.equal(index.match("default", "x.org", "/b/")?.key, "ns/b", "closed: no longer follows the ticket core");
  });
});
