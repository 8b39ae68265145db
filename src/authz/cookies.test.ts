import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatSetCookie, readCookie, readCookies } from "./cookies.js";

describe("readCookies", () => {
  it("returns every valid value in header order, skipping invalid ones, at most four", () => {
    assert.deepEqual(readCookies("tp=x; a=1; tp=good; tp=bad value; tp=third", "tp"), ["x", "good", "third"]);
    assert.deepEqual(readCookies("tp=1; tp=2; tp=3; tp=4; tp=5", "tp"), ["1", "2", "3", "4"]);
    assert.deepEqual(readCookies(undefined, "tp"), []);
  });
});

describe("readCookie", () => {
  const table: readonly [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ["", undefined],
    ["tp=abc", "abc"],
    ["a=1; tp=abc.def-_~; b=2", "abc.def-_~"],
    ["  tp = abc  ", "abc"],
    ['tp="quoted"', "quoted"],
    ["tpx=nope; xtp=nope", undefined],
    ["tp=; tp=second", "second"],
    ["tp=bad value; tp=good", "good"],
    ['tp=a"b; tp=ok', "ok"],
    ["tp=first; tp=second", "first"],
    ["a=1, tp=joined-by-comma", "joined-by-comma"],
    ["a=1;tp=x;;;", "x"],
    ["tp", undefined],
    ["tp=\u00e9", undefined],
    ["=;=;;,,", undefined],
    ["tp=" + "x".repeat(5000) + "; tp=short", "short"],
    // The name inside another cookie's value, or after other characters in its pair, is not the cookie.
    ["a=tp=x; b=xtp=y", undefined],
    ["x tp=1; tpx=2", undefined],
    ["a=tp=x;\t tp=found", "found"],
    ["a=xtp; tp=after", "after"],
  ];
  for (const [header, want] of table) {
    it(`${JSON.stringify(header)?.slice(0, 40)} → ${String(want)}`, () => {
      assert.equal(readCookie(header, "tp"), want);
    });
  }

  it("never throws on arbitrary bytes", () => {
    for (let n = 0; n < 500; n++) {
      let s = "";
      for (let k = 0; k < 40; k++) s += String.fromCharCode(Math.floor(Math.random() * 128));
      readCookie(s, "tp");
      readCookie(s + "; tp=v", "tp");
    }
    assert.equal(readCookie("\u0000\u0001;tp=v", "tp"), "v");
  });

  it("accepts exactly RFC 6265's cookie-octets inside a value", () => {
    // %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E; a separator ends the value instead, and a space inside it is refused.
    const octet = (c: number): boolean => c === 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
    for (let c = 0; c < 0x180; c++) {
      if (c === 0x3b || c === 0x2c) continue;
      const value = `a${String.fromCharCode(c)}b`;
      assert.equal(readCookie(`x=1; tp=${value}; y=2`, "tp"), octet(c) ? value : undefined, `char 0x${c.toString(16)}`);
    }
  });

  it("an empty name reads nothing", () => {
    assert.equal(readCookie("=x", ""), undefined);
  });
});

describe("formatSetCookie", () => {
  it("writes every attribute in a fixed order", () => {
    assert.equal(
      formatSetCookie("tp", "tok", { path: "/app/", secure: true, maxAgeSeconds: 3600 }),
      "tp=tok; Path=/app/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure",
    );
    assert.equal(formatSetCookie("q", "", { path: "/", secure: false, maxAgeSeconds: 0 }), "q=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    assert.equal(formatSetCookie("q", "v", { path: "/", secure: false }), "q=v; Path=/; HttpOnly; SameSite=Lax");
  });
});
