import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatHostPort, parseHostPort } from "./address.js";
import { checkDnsLabel, checkDnsSubdomain, checkHostName, checkPathPrefix } from "./names.js";

describe("parseHostPort", () => {
  const good: [string, string, number][] = [
    ["127.0.0.1:3838", "127.0.0.1", 3838],
    ["[::1]:9001", "::1", 9001],
    ["[2001:db8::5]:80", "2001:db8::5", 80],
    ["shiny-0.internal:8080", "shiny-0.internal", 8080],
    ["localhost:65535", "localhost", 65535],
  ];
  for (const [text, host, port] of good) it(`reads ${text}`, () => assert.deepEqual(parseHostPort(text), { ok: true, value: { host, port } }));

  const bad: unknown[] = ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:80", "[::1]80", "[nothost]:80", "host:port", ":80", "a b:80", "*.x.com:80", 3838, null, "1.2.3.4:-1", "1.2.3.4:080000"];
  for (const text of bad) it(`rejects ${String(JSON.stringify(text))}`, () => assert.equal(parseHostPort(text).ok, false));

  it("accepts port 0 only for listen addresses", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:0", true), { ok: true, value: { host: "127.0.0.1", port: 0 } });
    const r = parseHostPort("127.0.0.1:0");
    assert.ok(!r.ok && r.rule.includes("1–65535"));
  });

  it("formats IPv6 with brackets", () => {
    assert.equal(formatHostPort({ host: "::1", port: 9 }), "[::1]:9");
    assert.equal(formatHostPort({ host: "a.b", port: 9 }), "a.b:9");
  });
});

describe("names", () => {
  it("DNS-1123 labels", () => {
    for (const ok of ["a", "shiny", "app-2", "x".repeat(63)]) assert.equal(checkDnsLabel(ok), undefined, ok);
    for (const bad of ["", "Shiny", "-a", "a-", "a.b", "a_b", "x".repeat(64)]) assert.notEqual(checkDnsLabel(bad), undefined, bad);
  });
  it("DNS-1123 subdomains", () => {
    assert.equal(checkDnsSubdomain("shiny.v2"), undefined);
    assert.notEqual(checkDnsSubdomain("shiny..v2"), undefined);
  });
  it("host names, with a leading wildcard", () => {
    for (const ok of ["example.com", "Apps.Example.com", "*.example.com", "localhost"]) assert.equal(checkHostName(ok), undefined, ok);
    for (const bad of ["", "exa mple.com", "a..b", "*", "a.*.b", "http://x", "x:80"]) assert.notEqual(checkHostName(bad), undefined, bad);
  });
  it("path prefixes start and end with /", () => {
    assert.equal(checkPathPrefix("/"), undefined);
    assert.equal(checkPathPrefix("/shiny/"), undefined);
    assert.equal(checkPathPrefix("/shiny"), 'must start and end with "/"');
    assert.equal(checkPathPrefix("shiny/"), 'must start and end with "/"');
    assert.match(checkPathPrefix("/a b/") ?? "", /URL path/);
    assert.match(checkPathPrefix("/a?b/") ?? "", /URL path/);
  });
});
