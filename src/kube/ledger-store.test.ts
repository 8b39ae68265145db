/**
 * ApiLedgerStore against the test API server: a ledger kept by one store
 * instance (through the real LedgerKeeper and TicketCore) is restored by
 * another; appends touch one object; 409/500/410 and foreign content; the
 * size bound, measured for 10,000 tickets of one app.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { Kubectl } from "../../test/support/kube-api/kubectl.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { waitFor } from "../../test/support/wait-for.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { AppKey } from "../config/app-spec.js";
import { LedgerKeeper } from "../runtime/ledger-keeper.js";
import { TicketCore, admit, type LedgerRecord, type LedgerSnapshot, type TicketView } from "../tickets/index.js";
import { apiClients } from "./kube-api.fixture.js";
import { LEDGER_LABEL, SNAPSHOT_KEY, encodeAppPart } from "./ledger-object.js";
import { ApiLedgerStore, type ApiLedgerStoreOptions, type LedgerClaim } from "./ledger-store.js";
import { LeaseLeadership } from "./lease-leadership.js";

const k = useKubeApi();
const CONFIGMAPS = "/api/v1/namespaces/default/configmaps";

/** A claim this test controls (the real one is LeaseLeadership, tested on its own). */
class TestClaim implements LedgerClaim {
  leading = true;
  constructor(
    readonly identity: string,
    public termValue = 1,
  ) {}
  isLeader(): boolean {
    return this.leading;
  }
  term(): number {
    return this.termValue;
  }
  holder(): string | undefined {
    return this.leading ? this.identity : "someone-else";
  }
}

function store(options: Partial<ApiLedgerStoreOptions> & { claim?: LedgerClaim } = {}): { store: ApiLedgerStore; registry: Registry; logger: RecordingLogger } {
  const registry = new Registry();
  const logger = new RecordingLogger();
  const s = new ApiLedgerStore({ core: apiClients(k.server).core, namespace: "default", claim: new TestClaim("replica-a"), clock: new FakeClock(), logger, registry, ...options });
  return { store: s, registry, logger };
}

function core(clock: FakeClock): TicketCore {
  const c = new TicketCore({ clock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(1) }] }, routableByDefault: true });
  c.setApps([makeSpec({ name: "shiny", ticketsPerPod: 10 }), makeSpec({ name: "lab", ticketsPerPod: 10 })]);
  c.setPods("ns/shiny", [{ name: "shiny-a", host: "10.0.0.1", port: 80, ready: true }]);
  c.setPods("ns/lab", [{ name: "lab-a", host: "10.0.0.2", port: 80, ready: true }]);
  return c;
}

async function ledgerObjects(): Promise<{ name: string; data: Record<string, string>; binaryData: Record<string, string>; annotations: Record<string, string>; labels: Record<string, string> }[]> {
  const list = await k.api.get(`${CONFIGMAPS}?labelSelector=${LEDGER_LABEL}`);
  return (list.body.items as { metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> }; data?: Record<string, string>; binaryData?: Record<string, string> }[]).map((o) => ({
    name: o.metadata.name,
    data: o.data ?? {},
    binaryData: o.binaryData ?? {},
    annotations: o.metadata.annotations ?? {},
    labels: o.metadata.labels ?? {},
  }));
}

/** A ticket as the ticket core makes them: random id, millisecond times spread over hours, a client address. */
function ticket(app: AppKey, i: number, now: number): TicketView {
  const issuedAt = now - ((i * 7919) % 3_600_000);
  return { id: randomBytes(12).toString("base64url"), app, pod: `shiny-7d9f8c6b5-${String(i % 1000).padStart(5, "0")}`, slot: i % 10, issuedAt, expiresAt: issuedAt + 8 * 3_600_000, lastActiveAt: now - ((i * 104_729) % 60_000), openConnections: 0, keyId: "k1", confirmed: true, client: `10.${i % 256}.${(i >> 8) % 256}.7` };
}

function snapshotOf(tickets: readonly TicketView[], now: number): LedgerSnapshot {
  const issuedTotal: Record<string, number> = {};
  for (const t of tickets) issuedTotal[t.app] = (issuedTotal[t.app] ?? 0) + 1;
  return { version: 1, savedAt: now, tickets, queue: [], issuedTotal };
}

const loadedTickets = (load: Awaited<ReturnType<ApiLedgerStore["load"]>>): { id: string; app: string }[] => {
  assert.equal(load.kind, "loaded");
  return ((load as { snapshot: { tickets: { id: string; app: string }[] } }).snapshot.tickets).map((t) => ({ id: t.id, app: t.app }));
};

describe("ApiLedgerStore", () => {
  it("a ledger kept by one instance (snapshot + journal) is restored by another: no ticket lost, one ConfigMap per app", async () => {
    const clock = new FakeClock();
    const a = core(clock);
    const first = store({ clock });
    const keeper = new LedgerKeeper({ store: first.store, tickets: a, clock, logger: new RecordingLogger(), appendDelayMs: 20 });
    await keeper.start();
    const issued = [admit(a, "ns/shiny", {}), admit(a, "ns/shiny", {}), admit(a, "ns/lab", {})];
    await keeper.compact();
    const late = admit(a, "ns/lab", {});
    await clock.advanceAsync(20);
    await waitFor(() => keeper.status().lastAppendedAt !== undefined, { what: "the journal append" });
    assert.equal(keeper.status().lastError, undefined);
    const objects = await ledgerObjects();
    assert.deepEqual(objects.map((o) => o.annotations["ticketplane.dev/app"]).sort(), ["ns/lab", "ns/shiny"]);
    const lab = objects.find((o) => o.annotations["ticketplane.dev/app"] === "ns/lab");
    assert.ok(lab !== undefined && SNAPSHOT_KEY in lab.binaryData && "journal.00000001" in lab.data, "lab has a snapshot and one journal entry");
    assert.equal(lab.labels["app.kubernetes.io/managed-by"], "ticketplane");
    assert.equal(lab.annotations["ticketplane.dev/writer"], "replica-a");

    // A restart: a new process with a new store and ticket core; the first never stopped cleanly (no final compaction).
    const b = core(clock);
    const second = new LedgerKeeper({ store: store({ clock }).store, tickets: b, clock, logger: new RecordingLogger() });
    await second.start();
    const ids = (c: TicketCore, app: AppKey) => c.tickets(app).map((t) => t.id).sort();
    assert.deepEqual(ids(b, "ns/shiny"), ids(a, "ns/shiny"));
    assert.deepEqual(ids(b, "ns/lab"), ids(a, "ns/lab"));
    assert.equal(ids(b, "ns/lab").length, 2, "the ticket only in the journal came back too");
    assert.ok(late.kind === "issued" && issued.every((x) => x.kind === "issued"));
    assert.equal(b.figures("ns/shiny")?.issuedTotal, 2);
    await second.stop();
    await keeper.stop().catch(() => undefined);
  });

  it("an append is one merge patch of the touched app's object, whatever the other apps hold", async () => {
    const { store: s } = store();
    const now = Date.UTC(2026, 0, 1);
    const many = Array.from({ length: 500 }, (_, i) => ticket("ns/big", i, now));
    await s.save(snapshotOf([...many, ticket("ns/small", 1, now)], now), ["ns/big", "ns/small"]);
    const before = k.server.requests.length;
    const record: LedgerRecord = { op: "issue", ticket: ticket("ns/small", 2, now) };
    await s.append([record]);
    const calls = k.server.requests.slice(before);
    assert.deepEqual(calls.map((r) => `${r.method} ${r.path}`), [`PATCH ${CONFIGMAPS}/${s.objectName("ns/small")}`]);
    const small = (await ledgerObjects()).find((o) => o.annotations["ticketplane.dev/app"] === "ns/small");
    assert.deepEqual(Object.keys(small?.data ?? {}), ["journal.00000001"]);
    assert.deepEqual(JSON.parse(small?.data["journal.00000001"] ?? "null"), JSON.parse(JSON.stringify(record)));
  });

  it("a compaction rewrites only the apps that changed; an app gone from the config with nothing left loses its object", async () => {
    const { store: s } = store();
    const now = Date.UTC(2026, 0, 1);
    const t1 = ticket("ns/a", 1, now);
    const t2 = ticket("ns/b", 2, now);
    await s.save(snapshotOf([t1, t2], now), ["ns/a", "ns/b"]);
    const before = k.server.requests.length;
    await s.save(snapshotOf([t1, t2, ticket("ns/b", 3, now)], now + 1000), ["ns/a", "ns/b"]);
    assert.deepEqual(k.server.requests.slice(before).map((r) => `${r.method} ${r.path}`), [`PUT ${CONFIGMAPS}/${s.objectName("ns/b")}`], "ns/a unchanged: not written");
    await s.save({ version: 1, savedAt: now, tickets: [t2], queue: [], issuedTotal: { "ns/b": 2 } }, ["ns/b"]);
    assert.deepEqual((await ledgerObjects()).map((o) => o.annotations["ticketplane.dev/app"]), ["ns/b"]);
  });

  it("409: another client edits an object between writes; the store re-reads, reapplies, and loses nothing", async () => {
    const { store: s, registry } = store();
    const now = Date.UTC(2026, 0, 1);
    await s.save(snapshotOf([ticket("ns/a", 1, now)], now), ["ns/a"]);
    const kubectl = await Kubectl.create(k.server);
    try {
      await kubectl.ok(["annotate", "configmap", s.objectName("ns/a"), "-n", "default", "owner=ops"]);
    } finally {
      await kubectl.dispose?.();
    }
    const extra = ticket("ns/a", 2, now);
    await s.append([{ op: "issue", ticket: extra }]);
    await s.append([{ op: "release", app: "ns/a", id: extra.id }, { op: "issue", ticket: ticket("ns/a", 3, now) }]);
    assert.match(await registry.metrics(), /ticketplane_ledger_store_writes_total\{op="append",outcome="conflict"\} 1/);
    const objects = await ledgerObjects();
    assert.equal(objects[0]?.annotations["owner"], "ops", "the other client's edit stays");
    assert.deepEqual(Object.keys(objects[0]?.data ?? {}), ["journal.00000001", "journal.00000002"]);
    const loaded = loadedTickets(await store().store.load());
    assert.equal(loaded.length, 2, "ticket 1 and 3; 2 was released");
  });

  it("an app object deleted by someone is written whole again at the next append, not as a bare journal", async () => {
    const { store: s } = store();
    const now = Date.UTC(2026, 0, 1);
    const kept = ticket("ns/a", 1, now);
    await s.save(snapshotOf([kept], now), ["ns/a"]);
    await k.api.delete(`${CONFIGMAPS}/${s.objectName("ns/a")}`);
    const next = ticket("ns/a", 2, now);
    await s.append([{ op: "issue", ticket: next }]);
    assert.deepEqual(loadedTickets(await store().store.load()).map((t) => t.id).sort(), [kept.id, next.id].sort());
  });

  it("a newer owner's write (a higher term) is never overwritten: the stale owner's write is refused", async () => {
    const old = new TestClaim("replica-old", 1);
    const { store: stale } = store({ claim: old });
    const now = Date.UTC(2026, 0, 1);
    await stale.save(snapshotOf([ticket("ns/a", 1, now)], now), ["ns/a"]);
    const { store: fresh } = store({ claim: new TestClaim("replica-new", 2) });
    loadedTickets(await fresh.load());
    await fresh.save(snapshotOf([ticket("ns/a", 9, now)], now), ["ns/a"]);
    await assert.rejects(stale.append([{ op: "issue", ticket: ticket("ns/a", 2, now) }]), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.CONFLICT && /replica-new \(term 2\)/.test(e.message));
    const [only] = await ledgerObjects();
    assert.equal(only?.annotations["ticketplane.dev/writer"], "replica-new");
    assert.deepEqual(Object.keys(only?.data ?? {}), [], "no journal key from the stale owner");
  });

  it("only the leader writes: acquire names the holder when this replica does not lead, and a replica that lost the lead writes nothing", async () => {
    const claim = new TestClaim("replica-a");
    const { store: s } = store({ claim });
    claim.leading = false;
    await assert.rejects(s.acquire(), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.CONFLICT && /held by someone-else/.test(e.message));
    claim.leading = true;
    await s.acquire();
    claim.leading = false;
    const before = k.server.requests.length;
    await assert.rejects(s.save(snapshotOf([ticket("ns/a", 1, 0)], 0), ["ns/a"]), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.CONFLICT);
    assert.equal(k.server.requests.length, before, "not a single request");
  });

  it("a 500 or 429 rejects the write (no crash, nothing half-written); the next write goes through and a compaction restores the whole ledger", async () => {
    const { store: s } = store();
    const now = Date.UTC(2026, 0, 1);
    const base = ticket("ns/a", 1, now);
    await s.save(snapshotOf([base], now), ["ns/a"]);
    k.server.failNext(1, { status: 500, method: "PATCH" });
    const lost = ticket("ns/a", 2, now);
    await assert.rejects(s.append([{ op: "issue", ticket: lost }]), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.UNAVAILABLE && e.context["app"] === "ns/a");
    const next = ticket("ns/a", 3, now);
    await s.append([{ op: "issue", ticket: next }]);
    assert.deepEqual(loadedTickets(await store().store.load()).map((t) => t.id).sort(), [base.id, next.id].sort());
    await s.save(snapshotOf([base, lost, next], now), ["ns/a"]);
    assert.deepEqual(loadedTickets(await store().store.load()).length, 3);
    k.server.failNext(1, { status: 429, method: "PUT", retryAfterSeconds: 2 });
    const later = ticket("ns/a", 4, now);
    await assert.rejects(s.save(snapshotOf([base, lost, next, later], now), ["ns/a"]), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.UNAVAILABLE && e.context["status"] === 429);
    await s.save(snapshotOf([base, lost, next, later], now), ["ns/a"]);
    assert.deepEqual(loadedTickets(await store().store.load()).length, 4, "a 429 (too many requests) only delays the compaction");
  });

  it("a 410 between list pages (the continue token expired) restarts the list; every app loads", async () => {
    const { store: writer } = store();
    const now = Date.UTC(2026, 0, 1);
    await writer.save(snapshotOf(["ns/a", "ns/b", "ns/c"].map((app, i) => ticket(app, i, now)), now), ["ns/a", "ns/b", "ns/c"]);
    const { core: api } = apiClients(k.server);
    let pages = 0;
    const list = api.listNamespacedConfigMap.bind(api);
    api.listNamespacedConfigMap = async (...args: Parameters<typeof list>) => {
      const page = await list(...args);
      // After the first page, something else changes and the API server compacts its history: the continue token is now too old (410).
      if (pages++ === 0) {
        await k.api.post(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "unrelated" } });
        k.server.store.compact();
      }
      return page;
    };
    const { store: reader, logger } = store({ core: api, pageSize: 1 });
    assert.deepEqual(loadedTickets(await reader.load()).map((t) => t.app).sort(), ["ns/a", "ns/b", "ns/c"]);
    assert.ok(k.server.requests.some((r) => r.status === 410), "the API server did answer 410");
    assert.ok(logger.lines.some((l) => /listing again/.test(l.message)));
  });

  it("corrupt or foreign objects are set aside (copied with the reason, removed) and never trusted; the other apps load", async () => {
    const { store: s, registry } = store();
    const now = Date.UTC(2026, 0, 1);
    const good = ticket("ns/good", 1, now);
    await s.save(snapshotOf([good], now), ["ns/good"]);
    const labels = { [LEDGER_LABEL]: "v1" };
    const badName = s.objectName("ns/bad");
    await k.api.post(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: badName, labels, annotations: { "ticketplane.dev/app": "ns/bad" } }, binaryData: { [SNAPSHOT_KEY]: Buffer.from("not gzip").toString("base64") } });
    await k.api.post(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "copied-by-hand", labels, annotations: { "ticketplane.dev/app": "ns/good" } }, binaryData: { [SNAPSHOT_KEY]: encodeAppPart("ns/good", { tickets: [ticket("ns/good", 2, now)], queue: [], issuedTotal: 1 }).toString("base64") } });
    const load = await s.load();
    assert.deepEqual(loadedTickets(load).map((t) => t.id), [good.id], "only the good app's own object counts");
    const all = (await k.api.get(CONFIGMAPS)).body.items as { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; binaryData?: Record<string, string> }[];
    const aside = all.filter((o) => o.metadata.labels?.[LEDGER_LABEL] === "set-aside");
    assert.equal(aside.length, 2);
    assert.ok(aside.some((o) => o.metadata.name.startsWith(`${badName}-set-aside-`) && /not gzipped JSON/.test(o.metadata.annotations?.["ticketplane.dev/set-aside-reason"] ?? "")));
    assert.ok(aside.some((o) => /copied or foreign/.test(o.metadata.annotations?.["ticketplane.dev/set-aside-reason"] ?? "") && o.binaryData?.[SNAPSHOT_KEY] !== undefined), "the content is kept for inspection");
    assert.ok(!all.some((o) => o.metadata.name === badName || o.metadata.name === "copied-by-hand"));
    assert.match(await registry.metrics(), /ticketplane_ledger_store_set_aside_total 2/);
    await k.api.post(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "junk", labels, annotations: { "ticketplane.dev/app": "not a key" } } });
    await k.api.delete(`${CONFIGMAPS}/${s.objectName("ns/good")}`);
    const onlyJunk = await store().store.load();
    assert.equal(onlyJunk.kind, "set-aside");
    assert.match(onlyJunk.kind === "set-aside" ? onlyJunk.movedTo : "", /^ConfigMap default\/junk-set-aside-/);
  });

  it("10,000 tickets of one app fit in one object (measured); a restart loads them all", async (t) => {
    const { store: s } = store();
    const now = Date.UTC(2026, 0, 1);
    const tickets = Array.from({ length: 10_000 }, (_, i) => ticket("ns/shiny", i, now));
    await s.save(snapshotOf(tickets, now), ["ns/shiny"]);
    const [object] = await ledgerObjects();
    const bytes = Buffer.from(object?.binaryData[SNAPSHOT_KEY] ?? "", "base64").length;
    const json = JSON.stringify(tickets).length;
    t.diagnostic(`10,000 tickets of one app: ${bytes} bytes in the ConfigMap (${(bytes / 10_000).toFixed(1)} per ticket; ${json} bytes as plain JSON); bound ${s.maxObjectBytes}`);
    assert.ok(bytes < s.maxObjectBytes / 2, `${bytes} bytes`);
    assert.equal(loadedTickets(await store().store.load()).length, 10_000);
  });

  it("over the bound: the app is refused with TP_IO naming it, a metric counts it, its last stored state stays; other apps are written", async () => {
    const { store: s, registry } = store({ maxObjectBytes: 4000 });
    const now = Date.UTC(2026, 0, 1);
    const first = ticket("ns/big", 0, now);
    await s.save(snapshotOf([first, ticket("ns/small", 0, now)], now), ["ns/big", "ns/small"]);
    const big = Array.from({ length: 400 }, (_, i) => ticket("ns/big", i + 1, now));
    const small2 = ticket("ns/small", 1, now);
    await assert.rejects(s.save(snapshotOf([first, ...big, ticket("ns/small", 0, now), small2], now), ["ns/big", "ns/small"]), (e: unknown) => {
      assert.ok(e instanceof TicketplaneError && e.code === ERROR_CODES.IO);
      assert.match(e.message, /the ledger of app ns\/big \(401 tickets, 0 waiting\) needs \d+ bytes, over the bound of 4000/);
      assert.equal(e.context["app"], "ns/big");
      return true;
    });
    assert.match(await registry.metrics(), /ticketplane_ledger_store_oversize_total\{app="ns\/big"\} 1/);
    const loaded = loadedTickets(await store().store.load());
    assert.deepEqual(loaded.filter((t) => t.app === "ns/big").map((t) => t.id), [first.id], "the big app's last stored state");
    assert.equal(loaded.filter((t) => t.app === "ns/small").length, 2, "the other app was written");
  });

  it("a journal that would outgrow the bound is folded into that app's snapshot; nothing is lost", async () => {
    const { store: s } = store({ maxObjectBytes: 6000 });
    const now = Date.UTC(2026, 0, 1);
    await s.save(snapshotOf([ticket("ns/a", 0, now)], now), ["ns/a"]);
    const issued: TicketView[] = [];
    for (let i = 1; i <= 60; i++) {
      const t = ticket("ns/a", i, now);
      issued.push(t);
      await s.append([{ op: "issue", ticket: t }]);
      if (i % 3 === 0) await s.append([{ op: "release", app: "ns/a", id: issued[i - 2]?.id ?? "" }]);
    }
    const [object] = await ledgerObjects();
    const size = Object.entries(object?.data ?? {}).reduce((n, [key, v]) => n + key.length + v.length, 0) + Buffer.from(object?.binaryData[SNAPSHOT_KEY] ?? "", "base64").length;
    assert.ok(size <= 6000, `object holds ${size} bytes`);
    assert.ok(Object.keys(object?.data ?? {}).length < 60, "the journal was folded at least once");
    assert.equal(loadedTickets(await store().store.load()).length, 1 + 60 - 20);
  });

  it("with the leader Lease as the claim: the leader writes; once it stepped down it writes nothing; its successor (next term) loads every ticket", async () => {
    const clock = new FakeClock();
    const { coordination } = apiClients(k.server);
    const elect = (identity: string) => new LeaseLeadership({ coordination, namespace: "default", lease: "ticketplane", identity, clock, logger: new RecordingLogger(), registry: new Registry(), random: () => 0 });
    const [a, b] = [elect("replica-a"), elect("replica-b")];
    const step = async (ms: number) => {
      for (let left = ms; left > 0; left -= 250) {
        await clock.advanceAsync(250);
        await Promise.all([a.settled(), b.settled()]);
        assert.ok(!(a.isLeader() && b.isLeader()), "never two leaders");
      }
    };
    await a.start();
    await a.settled();
    await b.start();
    await step(500);
    assert.ok(a.isLeader() && !b.isLeader());
    const storeA = store({ claim: a, clock }).store;
    await storeA.acquire();
    const now = clock.now();
    const kept = [ticket("ns/a", 1, now), ticket("ns/b", 2, now)];
    await storeA.save(snapshotOf(kept, now), ["ns/a", "ns/b"]);
    await storeA.append([{ op: "issue", ticket: ticket("ns/a", 3, now) }]);
    await assert.rejects(store({ claim: b, clock }).store.acquire(), /held by replica-a/);

    k.server.failNext(1000, { status: 500, method: "PUT", path: "/apis/coordination.k8s.io/v1/namespaces/default/leases/ticketplane" });
    await step(12_000);
    assert.equal(a.isLeader(), false, "stepped down");
    await assert.rejects(storeA.append([{ op: "issue", ticket: ticket("ns/a", 4, now) }]), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.CONFLICT);
    k.server.clearFailures();
    await step(16_000);
    assert.equal(b.isLeader(), true);
    assert.equal(b.term(), 1);
    const storeB = store({ claim: b, clock }).store;
    await storeB.acquire();
    assert.equal(loadedTickets(await storeB.load()).length, 3, "every ticket the old leader stored");
    await a.stop();
    await b.stop();
  });
});
