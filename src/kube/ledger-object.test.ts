/** The app ledger's ConfigMap encoding: names, journal keys, and every way an object is not ours. */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { describe, it } from "node:test";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { APP_ANNOTATION, SNAPSHOT_KEY, TERM_ANNOTATION, decodeLedgerObject, encodeAppPart, journalKey, journalSeq, ledgerObjectName, splitSnapshot } from "./ledger-object.js";

const PREFIX = "ticketplane-ledger";

function object(app: string, content: Partial<V1ConfigMap> = {}, name = ledgerObjectName(PREFIX, app)): V1ConfigMap {
  return { metadata: { name, annotations: { [APP_ANNOTATION]: app, [TERM_ANNOTATION]: "4" } }, ...content };
}

const gz = (value: unknown) => gzipSync(JSON.stringify(value)).toString("base64");

describe("ledger object", () => {
  it("names are valid object names, readable, and distinct for keys that slug alike", () => {
    const a = ledgerObjectName(PREFIX, "shop/shiny");
    assert.match(a, /^ticketplane-ledger-shop-shiny-[0-9a-f]{10}$/);
    assert.notEqual(ledgerObjectName(PREFIX, "a-b/c"), ledgerObjectName(PREFIX, "a/b-c"));
    const long = ledgerObjectName(PREFIX, `${"n".repeat(63)}/${"x".repeat(253)}`);
    assert.ok(long.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(long), long);
  });

  it("journal keys sort in append order and read back; other keys are not journal keys", () => {
    assert.equal(journalKey(42), "journal.00000042");
    assert.ok(journalKey(9) < journalKey(10));
    assert.equal(journalSeq("journal.00000042"), 42);
    assert.equal(journalSeq("snapshot.json.gz"), undefined);
    assert.equal(journalSeq("journal.x"), undefined);
  });

  it("splits a snapshot by app and encodes each deterministically", () => {
    const t = (app: string, id: string) => ({ id, app, pod: "p", slot: 0, issuedAt: 1, expiresAt: 2, lastActiveAt: 1, openConnections: 0 });
    const parts = splitSnapshot({ version: 1, savedAt: 5, tickets: [t("ns/a", "1"), t("ns/b", "2")], queue: [{ app: "ns/b", id: "q", enqueuedAt: 1, lastSeenAt: 1 }], issuedTotal: { "ns/a": 3, "ns/c": 0 } });
    assert.deepEqual([...parts.keys()].sort(), ["ns/a", "ns/b"], "an app with nothing (issuedTotal 0) has no part");
    assert.equal(parts.get("ns/a")?.issuedTotal, 3);
    assert.equal(parts.get("ns/b")?.queue.length, 1);
    const part = parts.get("ns/a");
    assert.ok(part !== undefined);
    assert.ok(encodeAppPart("ns/a", part).equals(encodeAppPart("ns/a", part)));
  });

  it("reads back what it encodes, journal records in order; lines that do not parse or name another app are skipped and counted", () => {
    const ticket = { id: "1", app: "ns/a", pod: "p", slot: 0, issuedAt: 1, expiresAt: 2, lastActiveAt: 1, openConnections: 0 };
    const cm = object("ns/a", {
      binaryData: { [SNAPSHOT_KEY]: encodeAppPart("ns/a", { tickets: [ticket], queue: [], issuedTotal: 1 }).toString("base64") },
      data: { "journal.00000002": JSON.stringify({ op: "release", app: "ns/a", id: "1" }), "journal.00000001": `${JSON.stringify({ op: "confirm", app: "ns/a", id: "1", at: 3 })}\n{cut\n${JSON.stringify({ op: "release", app: "ns/b", id: "9" })}` },
    });
    const d = decodeLedgerObject(cm, PREFIX);
    assert.ok(d.ok);
    assert.deepEqual(d.value.records.map((r) => (r as { op: string }).op), ["confirm", "release"]);
    assert.equal(d.value.skipped, 2);
    assert.equal(d.value.term, 4);
    assert.deepEqual((d.value.snapshot as { tickets: unknown[] }).tickets, [ticket]);
  });

  it("names every way an object is not ours", () => {
    const reasons = [
      object("ns/a", {}, "renamed"),
      { metadata: { name: "x", annotations: { [APP_ANNOTATION]: "no-slash" } } },
      { metadata: { name: "x" } },
      object("ns/a", { binaryData: { [SNAPSHOT_KEY]: Buffer.from("plain").toString("base64") } }),
      object("ns/a", { binaryData: { [SNAPSHOT_KEY]: gz({ format: "something-else" }) } }),
      object("ns/a", { binaryData: { [SNAPSHOT_KEY]: gz({ format: "ticketplane-app-ledger", version: 2, app: "ns/a", tickets: [], queue: [], issuedTotal: 0 }) } }),
      object("ns/a", { binaryData: { [SNAPSHOT_KEY]: gz({ format: "ticketplane-app-ledger", version: 1, app: "ns/b", tickets: [], queue: [], issuedTotal: 0 }) } }),
      object("ns/a", { binaryData: { [SNAPSHOT_KEY]: gz({ format: "ticketplane-app-ledger", version: 1, app: "ns/a", tickets: {} }) } }),
      object("ns/a", { data: { "notes.txt": "hello" } }),
    ].map((cm) => {
      const d = decodeLedgerObject(cm, PREFIX);
      assert.ok(!d.ok, JSON.stringify(cm));
      return d.reason;
    });
    const expected = [/copied or foreign/, /not an app key/, /missing/, /not gzipped JSON/, /not a ticketplane-app-ledger/, /version 2/, /ledger of "ns\/b", not of ns\/a/, /lacks tickets/, /notes.txt is not a journal key/];
    expected.forEach((re, i) => assert.match(reasons[i] ?? "", re));
  });
});
