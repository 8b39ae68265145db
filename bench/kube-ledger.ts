/**
 * bench:kube-ledger — the API-server ledger store (src/kube/ledger-store.ts)
 * on the test API server over loopback HTTP:
 *
 * - what one append adds to its app's object, in an app of 10 tickets and
 *   of 10,000 (goal ≤ 1.2×: an issue writes the record, not the app);
 * - the size of a 10,000-ticket app's object (information; bound 1,000,000);
 * - wall time of one append in each, and of a 10,000-ticket compaction and
 *   load (information: they include the test server's own work).
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { Registry } from "prom-client";
import { systemClock } from "../src/common/clock.js";
import { silentLogger } from "../src/common/logger.js";
import type { AppKey } from "../src/config/app-spec.js";
import { ApiLedgerStore } from "../src/kube/ledger-store.js";
import type { LedgerSnapshot, TicketView } from "../src/tickets/index.js";
import { KubeApiServer } from "../test/support/kube-api/server.js";
import { alternate, figure, info, median, report } from "./lib/rounds.js";

const NOW = Date.UTC(2026, 0, 1);
const ROUNDS = 7;
const APPENDS = 50;

function ticket(app: AppKey, i: number): TicketView {
  const issuedAt = NOW - ((i * 7919) % 3_600_000);
  return { id: randomBytes(12).toString("base64url"), app, pod: `app-7d9f8c6b5-${String(i % 1000).padStart(5, "0")}`, slot: i % 10, issuedAt, expiresAt: issuedAt + 8 * 3_600_000, lastActiveAt: NOW - ((i * 104_729) % 60_000), openConnections: 0, keyId: "k1", confirmed: true, client: `10.${i % 256}.${(i >> 8) % 256}.7` };
}

function snapshot(app: AppKey, n: number): LedgerSnapshot {
  return { version: 1, savedAt: NOW, tickets: Array.from({ length: n }, (_, i) => ticket(app, i)), queue: [], issuedTotal: { [app]: n } };
}

const server = await KubeApiServer.start({ historyWindow: 100 });
const kc = new KubeConfig();
kc.loadFromOptions({ clusters: [{ name: "b", server: server.url, skipTLSVerify: true }], users: [{ name: "b", token: "b" }], contexts: [{ name: "b", cluster: "b", user: "b" }], currentContext: "b" });
const core = kc.makeApiClient(CoreV1Api);
const claim = { identity: "bench", isLeader: () => true, term: () => 1, holder: () => "bench" };
const store = new ApiLedgerStore({ core, namespace: "default", claim, clock: systemClock, logger: silentLogger, registry: new Registry() });

async function objectBytes(app: AppKey): Promise<number> {
  const cm = await core.readNamespacedConfigMap({ name: store.objectName(app), namespace: "default" });
  let n = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) n += k.length + Buffer.byteLength(v);
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) n += k.length + Buffer.from(v, "base64").length;
  return n;
}

/** Appends APPENDS one-issue batches to `app`; returns bytes added per append and ms per append. */
async function appendRound(app: AppKey, held: number): Promise<{ bytes: number; ms: number }> {
  await store.save({ ...snapshot(app, held), issuedTotal: { [app]: held } }, [app]);
  const before = await objectBytes(app);
  const start = performance.now();
  for (let i = 0; i < APPENDS; i++) await store.append([{ op: "issue", ticket: ticket(app, held + i) }]);
  const ms = (performance.now() - start) / APPENDS;
  return { bytes: ((await objectBytes(app)) - before) / APPENDS, ms };
}

try {
  const small = { bytes: [] as number[], ms: [] as number[] };
  const large = { bytes: [] as number[], ms: [] as number[] };
  await alternate(
    ROUNDS,
    async () => {
      const r = await appendRound("bench/small", 10);
      small.bytes.push(r.bytes);
      small.ms.push(r.ms);
      return r.bytes;
    },
    async () => {
      const r = await appendRound("bench/large", 10_000);
      large.bytes.push(r.bytes);
      large.ms.push(r.ms);
      return r.bytes;
    },
  );
  report(figure("kube_ledger.append_bytes_ratio.10000_vs_10_tickets", large.bytes.map((b, i) => b / (small.bytes[i] ?? Number.NaN)), { op: "<=", limit: 1.2 }));
  report(info("kube_ledger.append_bytes", median(large.bytes), "B"));
  report(info("kube_ledger.append_ms.10_tickets", median(small.ms), "ms"));
  report(info("kube_ledger.append_ms.10000_tickets", median(large.ms), "ms"));

  const big = snapshot("bench/big", 10_000);
  const t0 = performance.now();
  await store.save(big, ["bench/big"]);
  report(info("kube_ledger.compaction_ms.10000_tickets", performance.now() - t0, "ms"));
  report(info("kube_ledger.object_bytes.10000_tickets", await objectBytes("bench/big"), "B"));
  const reader = new ApiLedgerStore({ core, namespace: "default", claim, clock: systemClock, logger: silentLogger, registry: new Registry() });
  const t1 = performance.now();
  const loaded = await reader.load();
  report(info("kube_ledger.load_ms.3_apps_10020_tickets", performance.now() - t1, "ms"));
  if (loaded.kind !== "loaded") throw new Error(`load: ${loaded.kind}`);
} finally {
  await server.close();
}
