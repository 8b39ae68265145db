/**
 * ApiLedgerMirror against the test API server: an owner (TicketCore,
 * LedgerKeeper, ApiLedgerStore) writes the ledger ConfigMaps; a follower's
 * ticket core, fed only by the mirror, verifies the owner's tickets, stops
 * verifying a released one, verifies the ticket that took its slot, lets a
 * ticket in once its pod is known here, and skips objects that are not ours.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Watch } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { waitFor } from "../../test/support/wait-for.js";
import { LedgerKeeper } from "../runtime/ledger-keeper.js";
import { TicketCore, admit, type Admission } from "../tickets/index.js";
import { apiClients } from "./kube-api.fixture.js";
import { ApiLedgerMirror } from "./ledger-mirror.js";
import { LEDGER_LABEL, LEDGER_LABEL_VALUE } from "./ledger-object.js";
import { ApiLedgerStore, type LedgerClaim } from "./ledger-store.js";
import { kubeApis } from "./resources.js";

const k = useKubeApi();
const SHINY = "ns/shiny";

const owning: LedgerClaim = { identity: "owner", isLeader: () => true, term: () => 1, holder: () => "owner" };

function core(clock: FakeClock, pods = true): TicketCore {
  const c = new TicketCore({ clock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(1) }] }, routableByDefault: true });
  c.setApps([makeSpec({ name: "shiny", ticketsPerPod: 2, ticket: { idleTimeoutMs: 60_000, probationMs: 30_000 } })]);
  if (pods) c.setPods(SHINY, [{ name: "shiny-a", host: "10.0.0.1", port: 80, ready: true }]);
  return c;
}

function token(a: Admission): string {
  assert.equal(a.kind, "issued");
  return a.kind === "issued" ? a.token : "";
}

async function owner(clock: FakeClock): Promise<{ core: TicketCore; keeper: LedgerKeeper; flush: () => Promise<void> }> {
  const c = core(clock);
  const store = new ApiLedgerStore({ core: apiClients(k.server).core, namespace: "default", claim: owning, clock, logger: new RecordingLogger(), registry: new Registry() });
  const keeper = new LedgerKeeper({ store, tickets: c, clock, logger: new RecordingLogger(), appendDelayMs: 20 });
  await keeper.start();
  const flush = async (): Promise<void> => {
    const before = keeper.status().lastAppendedAt;
    await clock.advanceAsync(20);
    await waitFor(() => keeper.status().lastAppendedAt !== before, { what: "the owner's journal append" });
  };
  return { core: c, keeper, flush };
}

function follower(clock: FakeClock, target: TicketCore, follow: () => boolean = () => true): { mirror: ApiLedgerMirror; registry: Registry; logger: RecordingLogger } {
  const { kubeConfig } = apiClients(k.server);
  const registry = new Registry();
  const logger = new RecordingLogger();
  const mirror = new ApiLedgerMirror({ apis: kubeApis(kubeConfig), watch: new Watch(kubeConfig), namespace: "default", clock, logger, registry });
  mirror.feed(target, follow);
  return { mirror, registry, logger };
}

/** An owner that issued one ticket and compacted, and a follower mirroring it (started). */
async function ownerAndFollower(options: { pods?: boolean; follow?: () => boolean } = {}): Promise<{ o: Awaited<ReturnType<typeof owner>>; t: string; b: TicketCore; f: ReturnType<typeof follower> }> {
  const clock = new FakeClock();
  const o = await owner(clock);
  const t = token(admit(o.core, SHINY, {}));
  await o.keeper.compact();
  const b = core(clock, options.pods ?? true);
  const f = follower(clock, b, options.follow);
  await f.mirror.start(new AbortController().signal);
  return { o, t, b, f };
}

describe("ApiLedgerMirror", () => {
  it("a follower verifies the owner's tickets, stops verifying one the owner released, and verifies the ticket that took its slot", async () => {
    const clock = new FakeClock();
    const o = await owner(clock);
    const first = token(admit(o.core, SHINY, {}));
    await o.keeper.compact();
    const second = token(admit(o.core, SHINY, {}));
    await o.flush();

    const b = core(clock);
    const f = follower(clock, b);
    await f.mirror.start(new AbortController().signal);
    assert.equal(f.mirror.synced(), true);
    assert.equal(b.verify(SHINY, first).ok, true, "from the snapshot");
    assert.equal(b.verify(SHINY, second).ok, true, "from the journal");

    // `second`'s holder comes back; `first`'s never does: the owner releases it after its probation and gives the slot to a newcomer.
    assert.equal(admit(o.core, SHINY, { ticketTokens: [second] }).kind, "valid");
    await clock.advanceAsync(30_000);
    assert.deepEqual(o.core.sweep().filter((e) => e.kind === "released").map((e) => e.kind === "released" && e.reason), ["probation"]);
    const third = token(admit(o.core, SHINY, {}));
    await o.flush();
    await waitFor(() => !b.verify(SHINY, first).ok && b.verify(SHINY, third).ok, { what: "the release and the new ticket reach the follower" });
    assert.equal(b.verify(SHINY, second).ok, true, "the ticket the owner kept still verifies");
    const slots = b.tickets(SHINY).map((t) => `${t.pod}/${t.slot}`);
    assert.equal(new Set(slots).size, slots.length, "no slot held twice");
    assert.equal(b.figures(SHINY)?.used, 2);
    await f.mirror.stop();
    await o.keeper.stop();
  });

  it("a ticket on a pod this replica does not know yet verifies once its informer sees the pod", async () => {
    const { o, t, b, f } = await ownerAndFollower({ pods: false });
    assert.equal(b.verify(SHINY, t).ok, false, "pod unknown here: not yet");
    b.setPods(SHINY, [{ name: "shiny-a", host: "10.0.0.1", port: 80, ready: true }]);
    assert.equal(b.verify(SHINY, t).ok, true, "applied again when the pod arrived");
    await f.mirror.stop();
    await o.keeper.stop();
  });

  it("applies nothing while this replica owns the ledger", async () => {
    const { o, t, b, f } = await ownerAndFollower({ follow: () => false });
    assert.equal(b.verify(SHINY, t).ok, false);
    assert.deepEqual(b.tickets(SHINY), []);
    await f.mirror.stop();
    await o.keeper.stop();
  });

  it("skips a labelled object that is not a ledger of ours, counts it, and mirrors the others; a deleted object empties its app", async () => {
    const clock = new FakeClock();
    const o = await owner(clock);
    const t = token(admit(o.core, SHINY, {}));
    await o.keeper.compact();
    await k.api.post("/api/v1/namespaces/default/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "stray", labels: { [LEDGER_LABEL]: LEDGER_LABEL_VALUE } }, data: { hello: "world" } });
    const b = core(clock);
    const f = follower(clock, b);
    await f.mirror.start(new AbortController().signal);
    assert.equal(b.verify(SHINY, t).ok, true);
    assert.match(await f.registry.metrics(), /ticketplane_ledger_mirror_skipped_total 1/);
    assert.ok(f.logger.lines.some((r) => r.message.includes("not ours") && r.fields["object"] === "stray"));
    const objects = (await k.api.get(`/api/v1/namespaces/default/configmaps?labelSelector=${LEDGER_LABEL}`)).body.items as { metadata: { name: string } }[];
    const ledger = objects.find((x) => x.metadata.name !== "stray");
    assert.ok(ledger !== undefined);
    await k.api.delete(`/api/v1/namespaces/default/configmaps/${ledger.metadata.name}`);
    await waitFor(() => !b.verify(SHINY, t).ok, { what: "the deleted ledger empties the app here" });
    await f.mirror.stop();
    await o.keeper.stop();
  });
});
