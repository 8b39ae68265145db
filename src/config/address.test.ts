import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatHostPort, parseHostPort, parsePodAddress } from "./address.js";
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

  const bad: unknown[] = ["300.1.1.1:80", "1.2.3:80", "10.0.0.256:80", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:80", "[::1]80", "[nothost]:80", "host:port", ":80", "a b:80", "*.x.com:80", 3838, null, "1.2.3.4:-1", "1.2.3.4:080000"];
  for (const text of bad) it(`rejects ${String(JSON.stringify(text))}`, () => assert.equal(parseHostPort(text).ok, false));

  it("accepts port 0 only for listen addresses", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:0", true), { ok: true, value: { host: "127.0.0.1", port: 0 } });
    const r = parseHostPort("127.0.0.1:0");
    assert.ok(!r.ok && r.rule.includes("1–65535"));
  });

  it("pod addresses are IP literals only, and say why", () => {
    assert.deepEqual(parsePodAddress("10.0.0.1:3838"), { ok: true, value: { host: "10.0.0.1", port: 3838 } });
    assert.deepEqual(parsePodAddress("[fd00::1]:80"), { ok: true, value: { host: "fd00::1", port: 80 } });
    for (const text of ["localhost:8081", "shiny-0.internal:8080", "300.1.1.1:80", "10.0.0.1:0", "10.0.0.1", 80]) {
      const r = parsePodAddress(text);
      assert.ok(!r.ok && r.rule.includes("Envoy's EDS takes IP addresses only"), `${String(text)}: ${JSON.stringify(r)}`);
    }
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
    for (const ok of ["123.example.com", "a1.b2", "x.y1", "1a"]) assert.equal(checkHostName(ok), undefined, ok);
  });
  it("a name whose last label is all digits is no host name: it reads as a broken IPv4 address", () => {
    for (const bad of ["300.1.1.1", "1.2.3", "10.0.0.1", "a.123", "*.1.2", "0x.1", "42"]) assert.match(checkHostName(bad) ?? "", /IPv4/, bad);
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
