import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prng } from "../../../test/support/prng.js";
import { buildGatewayResources } from "./build.js";
import { createGatewayBuilder, createIncrementalGatewayBuilder, type GatewayChange } from "./gateway-builder.js";
import type { BuiltResource, GatewayModel, PodModel } from "./model.js";
import { app, pod, sampleModel } from "./model.fixture.js";
import { TYPE_URLS } from "./type-urls.js";

/** Everything a consumer sees of a build: the resources in order, or the error it throws. */
function outcome(build: () => BuiltResource[]): unknown {
  try {
    return build().map((r) => [r.typeUrl, r.name, Buffer.from(r.encoded).toString("base64"), r.pods, r.apps ?? []]);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * A random model: a few apps (some added, some gone), pods that come, go,
 * move, repeat a name or carry a bad address; an app's pods sometimes the
 * very array of an earlier model (`kept`), as the ticket core hands it
 * while no pod comes or goes.
 */
function randomModel(rand: () => number, group: string, kept?: Map<string, readonly PodModel[]>): GatewayModel {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const apps = ["shiny", "lab", "notebook", "admin"].filter(() => rand() < 0.8);
  // Rarely: an app named twice, or names whose "/" makes two pods' cluster names one ("lab/x" + "y" and "lab" + "x/y").
  if (apps.length > 0 && rand() < 0.05) apps.push(apps[0] ?? "");
  if (rand() < 0.05) apps.push("lab/x");
  return sampleModel({
    group,
    apps: apps.map((name, i) =>
      app({
        name,
        pathPrefix: `/${name}/`,
        mode: rand() < 0.5 ? "serve" : "proxy",
        pods: keptPods(rand, kept, name) ?? Array.from({ length: Math.floor(rand() * 6) }, () => {
          const n = Math.floor(rand() * 8);
          // Rarely: an address EDS cannot take, or a port that is none.
          const host = rand() < 0.04 ? "not-an-ip" : pick([`10.0.${i}.${n}`, `10.9.${i}.${n}`]);
          return pod(`p${n}`, host, rand() < 0.03 ? 0 : 8080);
        }),
      }),
    ),
  });
}

/** Now and then an earlier model's pods array for the app, itself; every array is remembered for later. */
function keptPods(rand: () => number, kept: Map<string, readonly PodModel[]> | undefined, app: string): readonly PodModel[] | undefined {
  return kept !== undefined && rand() < 0.4 ? kept.get(app) : undefined;
}

describe("createGatewayBuilder", () => {
  it("gives, over any sequence of models, exactly what buildGatewayResources gives (resources, order, tags, or the error)", () => {
    let errors = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rand = prng(seed);
      const build = createGatewayBuilder();
      const kept = new Map<string, readonly PodModel[]>();
      for (let step = 0; step < 25; step++) {
        const model = randomModel(rand, rand() < 0.8 ? "default" : "other", kept);
        for (const a of model.apps) kept.set(a.name, a.pods);
        const want = outcome(() => buildGatewayResources(model));
        if (!Array.isArray(want)) errors++;
        assert.deepEqual(outcome(() => build(model)), want, `seed ${seed} step ${step}`);
      }
    }
    // The cases include invalid models (a repeated pod, a bad address), so the error path is compared too.
    assert.ok(errors > 20, `only ${errors} invalid models`);
  });

  it("gives buildGatewayResources' answer for an app named twice and for names whose \"/\" would make one cluster name of two pods", () => {
    const cases = [
      sampleModel({ apps: [app({ name: "lab", pods: [pod("x/p1", "10.0.0.1")] }), app({ name: "lab/x", pathPrefix: "/labx/", pods: [pod("p1", "10.0.0.2")] })] }),
      sampleModel({ apps: [app({ name: "lab", pods: [pod("p1", "10.0.0.1")] }), app({ name: "lab", pathPrefix: "/lab2/", pods: [pod("p2", "10.0.0.2")] })] }),
    ];
    for (const model of cases) {
      const build = createGatewayBuilder();
      // Twice: the first build, then one with a memory of the group.
      for (let i = 0; i < 2; i++) assert.deepEqual(outcome(() => build(model)), outcome(() => buildGatewayResources(model)));
    }
  });

  it("hands back the very same objects for the pods that did not change, and new ones only for the pod that did", () => {
    const build = createGatewayBuilder();
    const pods = [pod("a", "10.0.0.1"), pod("b", "10.0.0.2"), pod("c", "10.0.0.3")];
    const before = build(sampleModel({ apps: [app({ name: "big", pods })] }));
    const after = build(sampleModel({ apps: [app({ name: "big", pods: [pods[0], pod("b", "10.0.9.9"), pods[2]].flatMap((p) => (p ? [p] : [])) })] }));
    const find = (rs: BuiltResource[], typeUrl: string, name: string): BuiltResource | undefined => rs.find((r) => r.typeUrl === typeUrl && r.name === name);
    for (const typeUrl of [TYPE_URLS.cluster, TYPE_URLS.endpoints]) {
      assert.equal(find(after, typeUrl, "apps/big/a"), find(before, typeUrl, "apps/big/a"));
      assert.equal(find(after, typeUrl, "apps/big/c"), find(before, typeUrl, "apps/big/c"));
    }
    assert.notEqual(find(after, TYPE_URLS.endpoints, "apps/big/b"), find(before, TYPE_URLS.endpoints, "apps/big/b"));
  });

  it("does not look at the pods of an app handed in as the very array of the previous build", () => {
    let reads = 0;
    const counted = (pods: PodModel[]): readonly PodModel[] => {
      const arr: PodModel[] = [];
      pods.forEach((p, i) => Object.defineProperty(arr, i, { enumerable: true, get: () => (reads++, p) }));
      return arr;
    };
    const big = counted(Array.from({ length: 50 }, (_, i) => pod(`p${i}`, `10.0.0.${i + 1}`)));
    const build = createIncrementalGatewayBuilder();
    build(sampleModel({ apps: [app({ name: "big", pods: big }), app({ name: "small", pathPrefix: "/small/", pods: [pod("a", "10.1.0.1")] })] }));
    const firstReads = reads;
    assert.ok(firstReads >= 50);
    const next = build(sampleModel({ apps: [app({ name: "big", pods: big }), app({ name: "small", pathPrefix: "/small/", pods: [pod("a", "10.1.0.1"), pod("b", "10.1.0.2")] })] }));
    assert.equal(reads, firstReads, "the unchanged app's pods were not read");
    assert.deepEqual(
      next.change?.upserts.filter((r) => r.pods.length > 0).map((r) => r.name),
      ["apps/small/b", "apps/small/b"],
    );
  });

  it("reuses the listener and route table while only pods change, and builds them again when an app changes", () => {
    const build = createGatewayBuilder();
    const shared = (rs: BuiltResource[]): BuiltResource[] => rs.filter((r) => r.typeUrl === TYPE_URLS.listener || r.typeUrl === TYPE_URLS.routes);
    const first = build(sampleModel({ apps: [app({ name: "big", pods: [pod("a", "10.0.0.1")] })] }));
    const podsOnly = build(sampleModel({ apps: [app({ name: "big", pods: [pod("a", "10.0.0.1"), pod("b", "10.0.0.2")] })] }));
    assert.equal(shared(first).length, 2);
    shared(podsOnly).forEach((r, i) => assert.equal(r, shared(first)[i], `${r.typeUrl}: the very same object`));
    const moved = build(sampleModel({ apps: [app({ name: "big", pathPrefix: "/moved/", pods: [pod("a", "10.0.0.1")] })] }));
    const routes = (rs: BuiltResource[]): string => Buffer.from(rs.find((r) => r.typeUrl === TYPE_URLS.routes)?.encoded ?? []).toString("hex");
    assert.notEqual(routes(moved), routes(first), "a new path prefix is a new route table");
    assert.deepEqual(outcome(() => moved), outcome(() => buildGatewayResources(sampleModel({ apps: [app({ name: "big", pathPrefix: "/moved/", pods: [pod("a", "10.0.0.1")] })] }))));
  });

  it("keeps node groups apart: the same pod key in another group is built for that group", () => {
    const build = createGatewayBuilder();
    const one = build(sampleModel({ group: "g1", apps: [app({ name: "x", pods: [pod("p", "10.0.0.1")] })] }));
    const two = build(sampleModel({ group: "g2", apps: [app({ name: "x", pods: [pod("p", "10.0.0.2")] })] }));
    const cla = (rs: BuiltResource[]): string => Buffer.from(rs.find((r) => r.typeUrl === TYPE_URLS.endpoints && r.name === "apps/x/p")?.encoded ?? []).toString("hex");
    assert.notEqual(cla(one), cla(two));
    assert.deepEqual(outcome(() => build(sampleModel({ group: "g1", apps: [app({ name: "x", pods: [pod("p", "10.0.0.1")] })] }))), outcome(() => one));
  });

  it("says what changed: the previous build's resources with its change applied are exactly the new build's", () => {
    const key = (r: { typeUrl: string; name: string }): string => `${r.typeUrl} ${r.name}`;
    const bytes = (r: BuiltResource): string => Buffer.from(r.encoded).toString("base64");
    const apply = (before: ReadonlyMap<string, BuiltResource>, change: GatewayChange): Map<string, BuiltResource> => {
      const after = new Map(before);
      for (const r of change.removals) after.delete(key(r));
      for (const r of change.upserts) after.set(key(r), r);
      return after;
    };
    let changes = 0;
    // Random models are often invalid (a repeated pod name), so many seeds.
    for (let seed = 1; seed <= 200; seed++) {
      const rand = prng(seed);
      const build = createIncrementalGatewayBuilder();
      let held: Map<string, BuiltResource> | undefined;
      for (let step = 0; step < 25; step++) {
        const model = randomModel(rand, "default");
        let out;
        try {
          out = build(model);
        } catch {
          held = undefined; // a failed model: the next build is a first one
          continue;
        }
        const want = new Map(out.resources().map((r) => [key(r), r]));
        if (out.change === undefined) {
          held = want;
          continue;
        }
        assert.ok(held, `seed ${seed} step ${step}: a change after a failed model`);
        const got = apply(held, out.change);
        assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `seed ${seed} step ${step}: names`);
        for (const [k, r] of want) assert.equal(bytes(got.get(k) ?? r), bytes(r), `seed ${seed} step ${step}: ${k}`);
        for (const [k, r] of want) assert.deepEqual(got.get(k)?.pods, r.pods, `seed ${seed} step ${step}: pods of ${k}`);
        changes++;
        held = want;
      }
    }
    assert.ok(changes > 150, `only ${changes} changes`);
  });

  it("hands in, for a one-pod change, that pod's resources and the shared part only", () => {
    const build = createIncrementalGatewayBuilder();
    const pods = Array.from({ length: 50 }, (_, i) => pod(`p${i}`, `10.0.0.${i + 1}`));
    build(sampleModel({ apps: [app({ name: "big", pods })] }));
    const added = build(sampleModel({ apps: [app({ name: "big", pods: [...pods, pod("new", "10.0.1.1")] })] }));
    const podResources = (c: GatewayChange | undefined): string[] => (c?.upserts ?? []).filter((r) => r.pods.length > 0).map((r) => `${r.typeUrl.split(".").pop() ?? ""} ${r.name}`);
    assert.deepEqual(podResources(added.change), ["Cluster apps/big/new", "ClusterLoadAssignment apps/big/new"]);
    assert.deepEqual(added.change?.removals, []);
    const removed = build(sampleModel({ apps: [app({ name: "big", pods })] }));
    assert.deepEqual(podResources(removed.change), []);
    assert.deepEqual(removed.change?.removals, [
      { typeUrl: TYPE_URLS.cluster, name: "apps/big/new" },
      { typeUrl: TYPE_URLS.endpoints, name: "apps/big/new" },
    ]);
  });
});
