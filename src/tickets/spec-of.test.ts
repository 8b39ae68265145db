import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { specOf } from "./spec-of.js";
import { harness, makeSpec } from "./tickets.fixture.js";

describe("specOf", () => {
  it("answers from the ticket core's apps, which stay one array until they change", () => {
    const { core } = harness(new FakeClock(), makeSpec({ namespace: "ns", name: "app" }));
    const first = core.apps();
    assert.equal(core.apps(), first, "the same array: indexed once");
    assert.equal(specOf(core, "ns/app")?.ticketsPerPod, first[0]?.ticketsPerPod);
    assert.equal(specOf(core, "ns/other"), undefined);
  });

  it("sees a changed spec, an added app and a removed app after setApps", () => {
    const { core } = harness(new FakeClock(), makeSpec({ namespace: "ns", name: "app", ticketsPerPod: 2 }));
    assert.equal(specOf(core, "ns/app")?.ticketsPerPod, 2);
    core.setApps([makeSpec({ namespace: "ns", name: "app", ticketsPerPod: 5 }), makeSpec({ namespace: "ns", name: "b" })]);
    assert.equal(specOf(core, "ns/app")?.ticketsPerPod, 5);
    assert.equal(specOf(core, "ns/b")?.name, "b");
    core.setApps([makeSpec({ namespace: "ns", name: "b" })]);
    assert.equal(specOf(core, "ns/app"), undefined);
  });

  it("works with views that answer a new array each time", () => {
    const specs = [makeSpec({ namespace: "a", name: "x" })];
    assert.equal(specOf({ apps: () => [...specs] }, "a/x"), specs[0]);
  });
});
