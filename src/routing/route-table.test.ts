import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AppRoute, RouteTable } from "./route-table.js";

const app = (key: string, pathPrefix: string, host?: string): AppRoute => ({ key, pathPrefix, ...(host === undefined ? {} : { host }) });
const keyOf = (table: RouteTable, authority: string, path: string): string | undefined => table.match(authority, path)?.key;

describe("RouteTable", () => {
  it("groups apps into one virtual host per domain (sorted, '*' for host-less) and orders routes longest prefix first, ties by prefix then key", () => {
    const table = new RouteTable([app("ns/a", "/a/"), app("ns/lab", "/", "Lab.example.com"), app("ns/ab", "/a/b/"), app("ns/zz", "/zz/"), app("ns/b2", "/bb/"), app("ns/b1", "/bb/"), app("ns/lab2", "/x/", "lab.example.com")]);
    assert.deepEqual(
      table.virtualHosts.map((vh) => [vh.domain, vh.routes.map((r) => r.key)]),
      [
        ["*", ["ns/ab", "ns/b1", "ns/b2", "ns/zz", "ns/a"]],
        ["lab.example.com", ["ns/lab2", "ns/lab"]],
      ],
    );
  });

  it("picks exact domains, then the longest suffix wildcard, then '*'", () => {
    const table = new RouteTable([app("any", "/"), app("wild", "/", "*.x.com"), app("wilder", "/", "*.a.x.com"), app("exact", "/", "a.x.com")]);
    assert.equal(keyOf(table, "a.x.com", "/"), "exact");
    assert.equal(keyOf(table, "b.a.x.com", "/"), "wilder");
    assert.equal(keyOf(table, "b.x.com", "/"), "wild");
    assert.equal(keyOf(table, ".x.com", "/"), "any", "a wildcard does not match the empty string");
    assert.equal(keyOf(table, "x.com", "/"), "any");
  });

  it("ignores the port the way Envoy does, IPv6 brackets included", () => {
    const table = new RouteTable([app("v6", "/", "[::1]"), app("foo", "/", "foo.com")]);
    assert.equal(keyOf(table, "[::1]:8080", "/"), "v6");
    assert.equal(keyOf(table, "[::1]", "/"), "v6");
    assert.equal(keyOf(table, "foo.com:8443", "/"), "foo");
    // Envoy's getPortStart does not require digits after the last ':'.
    assert.equal(keyOf(table, "foo.com:abc", "/"), "foo");
    assert.equal(keyOf(table, "foo.com.evil:80", "/"), undefined);
  });

  it("compares hosts case-insensitively and paths case-sensitively", () => {
    const table = new RouteTable([app("foo", "/a/", "foo.com")]);
    assert.equal(keyOf(table, "FOO.Com", "/a/x"), "foo");
    assert.equal(keyOf(table, "foo.com", "/A/x"), undefined);
  });

  it("takes the longest prefix that starts the path", () => {
    const table = new RouteTable([app("a", "/a/"), app("ab", "/a/b/"), app("root", "/")]);
    assert.equal(keyOf(table, "h", "/a/b/c"), "ab");
    assert.equal(keyOf(table, "h", "/a/bc"), "a");
    assert.equal(keyOf(table, "h", "/a/b/?q"), "ab");
    assert.equal(keyOf(table, "h", "/b"), "root");
  });

  it("never falls through from a host's virtual host to '*'", () => {
    const table = new RouteTable([app("hosted", "/x/", "foo.com"), app("b", "/b/")]);
    assert.equal(keyOf(table, "foo.com", "/b/x"), undefined);
    assert.equal(keyOf(table, "bar.com", "/b/x"), "b");
  });

  it("does not match a bare '/a' (or '/a?x') to an app at '/a/'", () => {
    const table = new RouteTable([app("a", "/a/")]);
    assert.equal(keyOf(table, "h", "/a"), undefined);
    assert.equal(keyOf(table, "h", "/a?x=/a/"), undefined);
    assert.equal(keyOf(table, "h", "/a/"), "a");
  });

  it("matches nothing without a virtual host for the host, or without apps", () => {
    assert.equal(keyOf(new RouteTable([app("foo", "/", "foo.com")]), "bar.com", "/"), undefined);
    assert.equal(keyOf(new RouteTable([]), "h", "/"), undefined);
  });

  it("hands back the caller's own route object", () => {
    const mine = { ...app("a", "/a/"), extra: 42 };
    assert.equal(new RouteTable([mine]).match("h", "/a/")?.extra, 42);
  });
});
