import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPE_URLS } from "../resources/type-urls.js";
import { computeDelta, deltaFromChange, type DeltaSubscription } from "./delta.js";
import type { EncodedResource } from "./encoded-resource.js";
import { gatewayResources } from "./resources.fixture.js";
import { Snapshot } from "./snapshot.js";
import { diffType } from "./snapshot-diff.js";

const EDS = TYPE_URLS.endpoints;
const snap = (pods: string[], ips: Record<string, string> = {}): Snapshot => Snapshot.build(gatewayResources(pods, ips));
const knownOf = (s: Snapshot, names?: string[]): Map<string, string> =>
  new Map([...s.resources(EDS).values()].filter((r) => !names || names.includes(r.name)).map((r) => [r.name, r.version]));
const sub = (wildcard: boolean, subscribed: string[], known: Map<string, string>): DeltaSubscription => ({ wildcard, subscribed: new Set(subscribed), known });
const names = (d: { changed: readonly { name: string }[] }): string[] => d.changed.map((r) => r.name).sort();

describe("computeDelta", () => {
  const s1 = snap(["a", "b"]);
  const s2 = snap(["b", "c"], { b: "10.2.2.2" });

  it("wildcard: sends everything new or changed and removes what the client knows and the type lost", () => {
    const d = computeDelta(sub(true, [], knownOf(s1)), s2.resources(EDS));
    assert.deepEqual(names(d), ["b", "c"]);
    assert.deepEqual(d.removed, ["a"]);
  });

  it("a client with nothing known gets everything; one that knows all current versions gets nothing", () => {
    assert.deepEqual(names(computeDelta(sub(true, [], new Map()), s2.resources(EDS))), ["b", "c"]);
    const none = computeDelta(sub(true, [], knownOf(s2)), s2.resources(EDS));
    assert.deepEqual([none.changed.length, none.removed.length], [0, 0]);
  });

  it("answers every resource as the type's shared list, and asks for that list only then", () => {
    let asked = 0;
    const all = (): readonly EncodedResource[] => (asked++, s2.list(EDS));
    assert.equal(computeDelta(sub(true, [], new Map()), s2.resources(EDS), all).changed, s2.list(EDS), "the shared list itself");
    assert.equal(asked, 1);
    computeDelta(sub(true, [], knownOf(s2, ["b"])), s2.resources(EDS), all);
    computeDelta(sub(false, ["c"], new Map()), s2.resources(EDS), all);
    assert.equal(asked, 1, "not asked when only some resources are sent");
  });

  it("explicit: only subscribed names; a missing name is removed only if the client has it", () => {
    const d = computeDelta(sub(false, ["a", "c", "zzz"], knownOf(s1, ["a"])), s2.resources(EDS));
    assert.deepEqual(names(d), ["c"]);
    assert.deepEqual(d.removed, ["a"]);
  });

  it("initial versions: a reconnecting client gets only what changed", () => {
    const d = computeDelta(sub(false, ["b", "c"], knownOf(s2, ["c"])), s2.resources(EDS));
    assert.deepEqual(names(d), ["b"]);
  });

  it("the fast path from a snapshot change equals the full computation for a client in step", () => {
    const change = diffType(s1, s2, EDS);
    for (const s of [sub(true, [], knownOf(s1)), sub(false, ["a", "b"], knownOf(s1, ["a", "b"])), sub(false, ["c"], new Map())]) {
      const full = computeDelta(s, s2.resources(EDS));
      const fast = deltaFromChange(s, change);
      assert.deepEqual(names(fast), names(full));
      assert.deepEqual([...fast.removed].sort(), [...full.removed].sort());
    }
  });
});
