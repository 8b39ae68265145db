/**
 * What a snapshot derives from its predecessor (per-type changes and
 * versions, the pods a change touches, which resources carry a pod, the
 * intermediate snapshot of a removal) must equal what a from-scratch
 * computation over the whole snapshot gives, over any sequence of changes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prng } from "../../../test/support/prng.js";
import type { BuiltResource } from "../resources/model.js";
import { PUSH_ORDER, TYPE_URLS, type TypeUrl } from "../resources/type-urls.js";
import { appRoutes, listener, podCluster, podEndpoints, routes } from "./resources.fixture.js";
import { Snapshot } from "./snapshot.js";
import { diffType, type TypeChange } from "./snapshot-diff.js";
import { setVersion } from "./version.js";

/** A random group: pods of a few apps with random addresses; the route table either names pods (irregular) or routes apps. */
function randomResources(rand: () => number): BuiltResource[] {
  const pods: string[] = [];
  for (const app of ["a", "b", "c"]) for (let i = 0; i < 6; i++) if (rand() < 0.5) pods.push(`ns/${app}/p${i}`);
  const table = rand() < 0.15 ? routes(pods.filter(() => rand() < 0.7)) : appRoutes(pods.filter(() => rand() < 0.9));
  // Rarely a cluster without its endpoints: an inconsistent snapshot, after consistent ones.
  const resources = [...pods.flatMap((p) => [podCluster(p), ...(rand() < 0.01 ? [] : [podEndpoints(p, rand() < 0.2 ? "10.0.0.9" : "10.0.0.1")])]), table];
  if (rand() < 0.9) resources.push(listener());
  return resources;
}

function contents(s: Snapshot, typeUrl: TypeUrl): string[] {
  return [...s.resources(typeUrl).values()].map((r) => `${r.name}=${r.version}`).sort();
}

/** Which resources carry `pod`, by brute force over every resource (what a fleet-wide index held). */
function carriersByScan(s: Snapshot, pod: string): Record<string, string[]> | undefined {
  let named = false;
  const out: Record<string, string[]> = {};
  for (const typeUrl of PUSH_ORDER) {
    for (const r of s.resources(typeUrl).values()) {
      if (r.pods.includes(pod)) named = true;
      if (r.carries(pod)) (out[typeUrl] ??= []).push(r.name);
    }
  }
  return named ? out : undefined;
}

function carriers(s: Snapshot, pod: string): Record<string, string[]> | undefined {
  const c = s.carriersOf(pod);
  return c === undefined ? undefined : Object.fromEntries([...c].map(([t, names]) => [t, [...names].sort()]));
}

function sorted(change: TypeChange): { upserted: string[]; removed: string[] } {
  return { upserted: change.upserted.map((r) => r.name).sort(), removed: [...change.removed].sort() };
}

const POD_NAMES = ["a", "b", "c"].flatMap((app) => Array.from({ length: 6 }, (_, i) => `ns/${app}/p${i}`));

function assertSame(incremental: Snapshot, scratch: Snapshot, at: string): void {
  for (const typeUrl of PUSH_ORDER) {
    assert.deepEqual(contents(incremental, typeUrl), contents(scratch, typeUrl), `${at}: ${typeUrl}`);
    assert.equal(incremental.typeVersion(typeUrl), scratch.typeVersion(typeUrl), `${at}: version of ${typeUrl}`);
    assert.equal(incremental.typeVersion(typeUrl), setVersion(incremental.resources(typeUrl).values()), `${at}: version of ${typeUrl} is setVersion`);
  }
  for (const pod of POD_NAMES) {
    assert.equal(incremental.hasPod(pod), scratch.hasPod(pod), `${at}: has ${pod}`);
    assert.deepEqual(carriers(incremental, pod), carriersByScan(scratch, pod), `${at}: carriers of ${pod}`);
  }
  assert.deepEqual([...incremental.pods()].sort(), [...scratch.pods()].sort(), `${at}: pods`);
  // The same problems (their order follows map order, which an applied change does not keep).
  const problems = (c: ReturnType<Snapshot["consistent"]>): string[] | undefined => (c.ok ? undefined : [...c.errors].sort());
  assert.deepEqual(problems(incremental.consistent()), problems(scratch.consistent()), `${at}: consistency`);
}

function assertChange(prev: Snapshot, next: Snapshot, at: string): void {
  for (const typeUrl of PUSH_ORDER) {
    const known = next.changeFrom(prev, typeUrl);
    assert.ok(known, `${at}: ${typeUrl} change known`);
    assert.deepEqual(sorted(known), sorted(diffType(prev, next, typeUrl)), `${at}: change of ${typeUrl}`);
  }
  const touched = next.podsTouchedSince(prev);
  if (touched === undefined) return;
  for (const pod of POD_NAMES) {
    const versions = (s: Snapshot): string => JSON.stringify(PUSH_ORDER.map((t) => (s.carriersOf(pod)?.get(t) ?? []).map((n) => s.get(t, n)?.version)));
    if (versions(prev) !== versions(next)) assert.ok(touched.has(pod), `${at}: ${pod} changed but is not touched`);
  }
}

describe("Snapshot derived from its predecessor", () => {
  it("equals a from-scratch build over random sequences: contents, type versions, carriers, consistency, and the change", () => {
    let routingChanges = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rand = prng(seed);
      let prev = Snapshot.build(randomResources(rand));
      for (let step = 0; step < 30; step++) {
        const resources = randomResources(rand);
        const next = Snapshot.build(resources, prev);
        const at = `seed ${seed} step ${step}`;
        assertSame(next, Snapshot.build(resources), at);
        assertChange(prev, next, at);
        if (next.podsTouchedSince(prev) === undefined) routingChanges++;
        prev = next;
      }
    }
    assert.ok(routingChanges > 50, "the sequences change the route table too");
  });

  it("applies a change set (what a builder that knows its change hands in) to the same result as a from-scratch build", () => {
    let inconsistent = 0;
    for (let seed = 200; seed < 240; seed++) {
      const rand = prng(seed);
      let prev = Snapshot.build(randomResources(rand));
      prev.consistent();
      for (let step = 0; step < 30; step++) {
        const resources = randomResources(rand);
        const key = (r: { typeUrl: string; name: string }): string => `${r.typeUrl} ${r.name}`;
        const present = new Set(resources.map(key));
        // Upserts: what changed, plus some that did not (kept as they were); removals: what went, plus names that never were.
        const upserts = resources.filter((r) => !prev.get(r.typeUrl, r.name)?.sameAs(r) || rand() < 0.2);
        const removals = PUSH_ORDER.flatMap((t) => [...prev.resources(t).keys()].map((name) => ({ typeUrl: t, name }))).filter((r) => !present.has(key(r)));
        removals.push({ typeUrl: TYPE_URLS.endpoints, name: "ns/z/never" });
        const next = Snapshot.apply(prev, upserts, removals);
        const at = `seed ${seed} step ${step}`;
        assertSame(next, Snapshot.build(resources), at);
        assertChange(prev, next, at);
        if (!next.consistent().ok) inconsistent++;
        prev = next;
      }
    }
    assert.ok(inconsistent > 5, `only ${inconsistent} inconsistent snapshots`);
  });

  it("refuses two upserts with the same type and name", () => {
    const prev = Snapshot.build([podCluster("ns/a/p1"), podEndpoints("ns/a/p1")]);
    assert.throws(() => Snapshot.apply(prev, [podEndpoints("ns/a/p2"), podEndpoints("ns/a/p2", "10.0.0.2")], []), /duplicate/);
  });

  it("derives the intermediate snapshot of a removal as the new snapshot plus the dropped clusters and endpoints", () => {
    let mids = 0;
    for (let seed = 100; seed < 130; seed++) {
      const rand = prng(seed);
      let prev = Snapshot.build(randomResources(rand));
      for (let step = 0; step < 20; step++) {
        const next = Snapshot.build(randomResources(rand), prev);
        const mid = Snapshot.keepingRemoved(prev, next);
        const at = `seed ${seed} step ${step}`;
        const dropped = (t: TypeUrl): BuiltResource[] => [...prev.resources(t).values()].filter((r) => !next.resources(t).has(r.name)).map((r) => ({ typeUrl: t, name: r.name, encoded: r.bytes, pods: r.pods, apps: r.apps }));
        const want = [...dropped(TYPE_URLS.cluster), ...dropped(TYPE_URLS.endpoints)];
        if (want.length === 0) {
          assert.equal(mid, undefined, at);
        } else {
          assert.ok(mid, at);
          mids++;
          const all = PUSH_ORDER.flatMap((t) => [...next.resources(t).values()].map((r) => ({ typeUrl: t, name: r.name, encoded: r.bytes, pods: r.pods, apps: r.apps })));
          assertSame(mid, Snapshot.build([...all, ...want]), at);
          assertChange(prev, mid, `${at} (prev → intermediate)`);
          assertChange(mid, next, `${at} (intermediate → next)`);
        }
        prev = next;
      }
    }
    assert.ok(mids > 50, `only ${mids} removals`);
  });

  it("knows no change from a snapshot it was not derived from", () => {
    const a = Snapshot.build(randomResources(prng(7)));
    const b = Snapshot.build(randomResources(prng(8)));
    assert.equal(b.changeFrom(a, TYPE_URLS.cluster), undefined);
    assert.equal(b.podsTouchedSince(a), undefined);
  });
});
