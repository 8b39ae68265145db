import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { parseConfigFile } from "../config/config-file.js";
import type { LocalConfig } from "../config/config-file.js";
import { ConfigState } from "./config-state.js";

const text = (pods: string, admin = "127.0.0.1:0"): string => `listen: { admin: ${admin} }\napps:\n  - name: shiny\n    pods: ${pods}\n`;
function parse(t: string): LocalConfig {
  const r = parseConfigFile(t, "/etc/tp/tp.yaml");
  assert.ok(r.ok, JSON.stringify(r));
  return r.value;
}

describe("ConfigState", () => {
  const good = text("[{ name: a, address: 127.0.0.1:8081, ready: true }]");

  it("accepts a valid edit and makes it the config in force", () => {
    const clock = new FakeClock();
    const s = new ConfigState("/etc/tp/tp.yaml", parse(good), clock);
    clock.advance(1000);
    const offer = s.offer({ ok: true, text: text("[]") });
    assert.equal(offer.kind, "accepted");
    assert.deepEqual(s.config.pods["default/shiny"], []);
    assert.equal(s.loadedAt, clock.now());
    assert.deepEqual(s.readinessReasons(), []);
  });

  it("refuses an invalid edit: config in force unchanged, disk invalid with every error, not ready", () => {
    const s = new ConfigState("/etc/tp/tp.yaml", parse(good), new FakeClock());
    const offer = s.offer({ ok: true, text: text("[{ name: a, address: nowhere, ready: maybe }]") });
    assert.equal(offer.kind, "refused");
    assert.equal(s.disk.kind, "invalid");
    assert.ok(s.disk.kind === "invalid" && s.disk.errors.length === 2, JSON.stringify(s.disk));
    assert.equal(s.config.pods["default/shiny"]?.[0]?.name, "a");
    assert.match(s.readinessReasons()[0] ?? "", /on disk is invalid \(2 errors\)/);
    s.offer({ ok: true, text: good });
    assert.deepEqual(s.readinessReasons(), []);
  });

  it("reports an unreadable file without touching the config in force", () => {
    const s = new ConfigState("/etc/tp/tp.yaml", parse(good), new FakeClock());
    assert.equal(s.offer({ ok: false, error: "ENOENT" }).kind, "unreadable");
    assert.match(s.readinessReasons()[0] ?? "", /cannot be read \(ENOENT\)/);
    assert.equal(s.config.apps.length, 1);
  });

  it("lists settings that only a restart applies", () => {
    const s = new ConfigState("/etc/tp/tp.yaml", parse(good), new FakeClock());
    const offer = s.offer({ ok: true, text: text("[]", "127.0.0.1:9999") });
    assert.ok(offer.kind === "accepted");
    assert.deepEqual(offer.restartRequired, ["listen.admin"]);
  });
});
