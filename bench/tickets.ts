/**
 * bench:tickets — the ticket core's own costs, measured as this process's
 * CPU time (not wall time, so other processes on the machine do not count),
 * in at least five rounds that alternate which side goes first:
 *
 * - verifying a token against one HMAC-SHA256 over the same bytes (verify
 *   contains one HMAC, so the ratio is ≥ 1 and should stay ≤ 2);
 * - issuing a ticket in an app of 8,000 pods against one of 10 (≤ 2×:
 *   issuing never scans the fleet);
 * - what persisting one issue writes, in a ledger of 100 tickets and of
 *   100,000 (≤ 1.2×: the journal appends what changed, not the ledger);
 * - admitting a valid ticket (information).
 */
import { createHmac, createSecretKey } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../src/common/logger.js";
import { systemClock } from "../src/common/clock.js";
import { DEFAULTS, type AppSpec } from "../src/config/app-spec.js";
import { LedgerKeeper } from "../src/runtime/ledger-keeper.js";
import { StateFileStore } from "../src/standalone/state-file-store.js";
import { SigningKeys, TicketCore, admit, signTicketToken, verifyTicketToken } from "../src/tickets/index.js";
import { alternate, figure, info, median, ratios, report } from "./lib/rounds.js";

const SECRET = Buffer.alloc(32, 42);
const RING = { active: "k1", keys: [{ id: "k1", secret: SECRET }] };
const APP = "bench/app";
const NOW = Date.UTC(2026, 0, 1);
const ROUNDS = 7;

/** CPU nanoseconds per call of `fn` over `iterations` calls (after as many warm-up calls). */
function cpuNs(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < Math.min(iterations, 5_000); i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / iterations;
}

function spec(ticketsPerPod: number): AppSpec {
  return { ...DEFAULTS, source: "file", namespace: "bench", name: "app", pathPrefix: "/app/", ticketsPerPod, maxPods: 10_000, ticket: { ...DEFAULTS.ticket, maxLifetimeMs: 3_600_000 } };
}

function core(pods: number, ticketsPerPod: number): TicketCore {
  const c = new TicketCore({ clock: systemClock, keys: RING, routableByDefault: true });
  c.setApps([spec(ticketsPerPod)]);
  c.setPods(APP, Array.from({ length: pods }, (_, i) => ({ name: `app-5f7c9d-${String(i).padStart(5, "0")}`, host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 8080, ready: true })));
  return c;
}

let sink = 0;

async function verifyAgainstHmac(): Promise<void> {
  const keys = new SigningKeys(RING);
  const token = signTicketToken(keys, { app: APP, pod: "app-5f7c9d-abcde", slot: 1, id: "Zm9vYmFyYmF6cXV4", issuedAt: NOW, expiresAt: NOW + 3600_000 });
  const tokenBytes = Buffer.from(token, "latin1");
  // A KeyObject is HMAC's cheapest form in Node: the ratio is against the cheapest honest HMAC.
  const key = createSecretKey(SECRET);
  const s = await alternate(
    ROUNDS,
    () => cpuNs(() => (sink += createHmac("sha256", key).update(tokenBytes).digest().length), 50_000),
    () => cpuNs(() => (sink += verifyTicketToken(keys, token, APP, NOW).ok ? 1 : 0), 50_000),
  );
  console.log(`HMAC-SHA256 over the token: ${median(s.a).toFixed(0)} ns; verifyTicketToken: ${median(s.b).toFixed(0)} ns (CPU, median of ${String(s.a.length)})`);
  report(figure("tickets.token_verify_ratio", ratios(s), { op: "<=", limit: 2 }));
}

function admitValid(): void {
  const c = core(1, 4);
  const issued = admit(c, APP, {});
  if (issued.kind !== "issued") throw new Error(`bench set-up: expected a ticket, got ${issued.kind}`);
  const creds = { ticketTokens: [issued.token] };
  const ns = median(Array.from({ length: 5 }, () => cpuNs(() => (sink += admit(c, APP, creds).kind === "valid" ? 1 : 0), 50_000)));
  console.log(`admit (valid ticket): ${ns.toFixed(0)} ns (CPU)`);
  report(info("tickets.admit_valid_ns", ns, "ns"));
}

async function issueAtScale(): Promise<void> {
  const ISSUES = 3_000;
  const perIssue = (pods: number) => (): number => {
    const c = core(pods, 1_000);
    for (let i = 0; i < 500; i++) admit(c, APP, {}); // warm-up, on the same core
    const start = process.cpuUsage();
    for (let i = 0; i < ISSUES; i++) if (admit(c, APP, {}).kind !== "issued") throw new Error("bench: expected a ticket");
    const used = process.cpuUsage(start);
    return ((used.user + used.system) * 1000) / ISSUES;
  };
  const s = await alternate(ROUNDS, perIssue(10), perIssue(8_000));
  console.log(`issue: ${median(s.a).toFixed(0)} ns at 10 pods, ${median(s.b).toFixed(0)} ns at 8,000 pods (CPU per issue)`);
  report(figure("tickets.issue_cost_ratio.8000_vs_10_pods", ratios(s), { op: "<=", limit: 2 }));
}

/** Bytes the ledger store writes per issue, in a ledger already holding `held` tickets. */
async function persistedBytesPerIssue(held: number): Promise<{ perIssue: number; snapshot: number }> {
  const dir = await mkdtemp(join(tmpdir(), "tp-bench-"));
  const file = join(dir, "bench.state.json");
  try {
    const c = core(Math.ceil((held + 1_000) / 1_000), 1_000);
    for (let i = 0; i < held; i++) admit(c, APP, {});
    const store = new StateFileStore({ file, clock: systemClock, logger: silentLogger });
    const keeper = new LedgerKeeper({ store, tickets: c, clock: systemClock, logger: silentLogger, appendDelayMs: 5, compactEveryMs: 3_600_000, compactAfterRecords: 1_000_000 });
    await keeper.start();
    const snapshot = (await stat(file)).size;
    const ISSUES = 500;
    for (let i = 0; i < ISSUES; i++) {
      admit(c, APP, {});
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 50));
    const journal = (await stat(`${file}.journal`)).size;
    await keeper.stop();
    return { perIssue: journal / ISSUES, snapshot };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function persistence(): Promise<void> {
  const small = await persistedBytesPerIssue(100);
  const large = await persistedBytesPerIssue(100_000);
  console.log(`persisted per issue: ${small.perIssue.toFixed(0)} B with 100 tickets (snapshot ${String(small.snapshot)} B), ${large.perIssue.toFixed(0)} B with 100,000 (snapshot ${String(large.snapshot)} B)`);
  report(info("tickets.persist_bytes_per_issue", large.perIssue, "B"));
  report(figure("tickets.persist_bytes_ratio.100000_vs_100_tickets", [large.perIssue / small.perIssue], { op: "<=", limit: 1.2 }));
}

await verifyAgainstHmac();
admitValid();
await issueAtScale();
await persistence();
if (sink === -1) console.log(sink);
