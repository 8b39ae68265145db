import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asciiLower, hostForMatching, portStart } from "./authority.js";

describe("hostForMatching (Envoy's getPortStart, then ASCII lower-case)", () => {
  const table: readonly [string, string][] = [
    ["foo.com", "foo.com"],
    ["foo.com:8080", "foo.com"],
    ["Foo.COM:443", "foo.com"],
    ["[::1]:8080", "[::1]"],
    ["[::1]", "[::1]"],
    ["[fe80::1%25eth0]:80", "[fe80::1%25eth0]"],
    // Unbracketed IPv6 is not an authority; Envoy still cuts at the last ':'.
    ["::1", ":"],
    ["fe80::1", "fe80:"],
    // getPortStart does not check what follows the ':': Envoy ignores a non-numeric or empty "port" too.
    ["foo.com:abc", "foo.com"],
    ["foo.com:", "foo.com"],
    ["foo.com:80:90", "foo.com:80"],
    ["", ""],
  ];
  for (const [authority, host] of table) it(`${JSON.stringify(authority)} → ${JSON.stringify(host)}`, () => assert.equal(hostForMatching(authority), host));

  it("finds no port inside brackets", () => {
    assert.equal(portStart("[::1]"), -1);
    assert.equal(portStart("[::1]:1"), 5);
    assert.equal(portStart("a.b"), -1);
  });

  it("lower-cases ASCII only, as absl::AsciiStrToLower does", () => {
    assert.equal(asciiLower("A.Example.COM"), "a.example.com");
    // U+212A KELVIN SIGN would become "k" with String#toLowerCase.
    assert.equal(asciiLower("\u212A.com"), "\u212A.com");
    const lower = "already.lower";
    assert.equal(asciiLower(lower), lower);
  });
});
