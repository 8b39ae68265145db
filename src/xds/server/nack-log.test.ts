import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../../test/support/fake-clock.js";
import { RecordingLogger } from "../../../test/support/recording-logger.js";
import { NackLog, truncateMessage, type NackEvent } from "./nack-log.js";

const CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

function event(typeUrl: string, error: string): NackEvent {
  return { node: "gw-1", group: "default", typeUrl, rejectedVersion: "v2", acceptedVersion: "v1", error };
}

describe("NackLog", () => {
  it("logs the first NACK at once, then at most one line per interval with the count of the others", () => {
    const clock = new FakeClock();
    const logger = new RecordingLogger();
    const nacks = new NackLog(logger, clock, 60_000);
    for (let i = 1; i <= 1_000; i++) nacks.nack(event(CDS, `bad ${i}`));
    assert.equal(logger.at("warn").length, 1);
    assert.equal(logger.at("warn")[0]?.fields["error"], "bad 1");
    clock.advance(59_999);
    assert.equal(logger.at("warn").length, 1);
    clock.advance(1);
    assert.equal(logger.at("warn").length, 2);
    assert.equal(logger.at("warn")[1]?.fields["nacks"], 999);
    assert.equal(logger.at("warn")[1]?.fields["error"], "bad 1000", "the latest is shown");
    // A quiet interval closes the window: the next NACK is logged at once.
    clock.advance(60_000);
    assert.equal(logger.at("warn").length, 2);
    nacks.nack(event(CDS, "again"));
    assert.equal(logger.at("warn").length, 3);
    assert.equal(logger.at("warn")[2]?.fields["nacks"], undefined);
    nacks.close();
    assert.equal(clock.pendingTimers, 0);
  });

  it("limits each type on its own, and close() logs what was held back and cancels its timers", () => {
    const clock = new FakeClock();
    const logger = new RecordingLogger();
    const nacks = new NackLog(logger, clock, 30_000);
    nacks.nack(event(CDS, "c1"));
    nacks.nack(event(EDS, "e1"));
    nacks.nack(event(EDS, "e2"));
    nacks.nack(event(EDS, "e3"));
    assert.deepEqual(
      logger.at("warn").map((l) => l.fields["error"]),
      ["c1", "e1"],
    );
    nacks.close();
    assert.equal(clock.pendingTimers, 0);
    const last = logger.at("warn").at(-1);
    assert.equal(last?.fields["error"], "e3");
    assert.equal(last?.fields["nacks"], 2);
    clock.advance(60_000);
    assert.equal(logger.at("warn").length, 3);
  });
});

describe("truncateMessage", () => {
  it("keeps a short message as it is", () => {
    assert.equal(truncateMessage("bad cluster", 512), "bad cluster");
    assert.equal(truncateMessage("x".repeat(512), 512), "x".repeat(512));
  });

  it("cuts a long message and says so, with its length", () => {
    const cut = truncateMessage("y".repeat(3 * 1024 * 1024), 512);
    assert.ok(cut.startsWith("y".repeat(512) + "…"));
    assert.match(cut, /truncated: 3145728 characters/);
    assert.ok(cut.length < 600);
  });

  it("never splits a surrogate pair", () => {
    const cut = truncateMessage("a".repeat(511) + "😀" + "b".repeat(100), 512);
    assert.ok(cut.startsWith("a".repeat(511) + "…"));
    assert.doesNotMatch(cut, /\uFFFD/);
  });
});
