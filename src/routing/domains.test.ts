import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DomainIndex } from "./domains.js";

describe("DomainIndex (Envoy's virtual-host search order)", () => {
  const index = new DomainIndex<string>(
    ["*", "a.x.com", "*.x.com", "*.a.x.com", "*-bar.x.com", "foo.*", "foo.b*", "[::1]"].map((d) => [d, d] as const),
  );
  const table: readonly [string, string | undefined][] = [
    ["a.x.com", "a.x.com"],
    ["A.X.COM:8080", "a.x.com"],
    ["b.a.x.com", "*.a.x.com"],
    ["b.x.com", "*.x.com"],
    ["baz-bar.x.com", "*-bar.x.com"],
    // A wildcard never matches the empty string.
    [".x.com", "*"],
    ["-bar.x.com", "*.x.com"],
    ["x.com", "*"],
    ["foo.bar", "foo.b*"],
    ["foo.x", "foo.*"],
    ["foo.", "*"],
    // Suffix wildcards before prefix wildcards.
    ["foo.x.com", "*.x.com"],
    ["[::1]:8080", "[::1]"],
    ["elsewhere.org", "*"],
  ];
  for (const [authority, want] of table) it(`${authority} → ${String(want)}`, () => assert.equal(index.select(authority), want));

  it("has no match without a catch-all", () => {
    const hosts = new DomainIndex([["a.com", 1] as const]);
    assert.equal(hosts.select("b.com"), undefined);
    assert.equal(hosts.select("a.com:1"), 1);
  });

  it("with only the catch-all, ignores the host entirely", () => {
    const any = new DomainIndex([["*", 1] as const]);
    assert.equal(any.select(""), 1);
    assert.equal(any.select("[garbage"), 1);
    assert.equal(new DomainIndex<number>([]).select("a"), undefined);
  });

  it("rejects duplicate domains, case-insensitively, as Envoy rejects the RouteConfiguration", () => {
    assert.throws(() => new DomainIndex([["A.com", 1], ["a.com", 2]] as const), /duplicate/);
    assert.throws(() => new DomainIndex([["*", 1], ["*", 2]] as const), /duplicate/);
    assert.throws(() => new DomainIndex([["*.a", 1], ["*.A", 2]] as const), /duplicate/);
  });
});
