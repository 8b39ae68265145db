import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clientAddress } from "./client-address.js";

describe("clientAddress", () => {
  it("is the source address without trusted proxies, whatever X-Forwarded-For says", () => {
    assert.equal(clientAddress("203.0.113.7", "1.1.1.1, 2.2.2.2", 0), "203.0.113.7");
  });

  it("is the Nth address from the right of X-Forwarded-For behind N trusted proxies", () => {
    assert.equal(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.4, 10.0.0.1", 1), "10.0.0.1");
    assert.equal(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.4, 10.0.0.1", 2), "198.51.100.4");
  });

  it("falls back to the source address when X-Forwarded-For is missing, short or junk", () => {
    assert.equal(clientAddress("10.0.0.2", undefined, 1), "10.0.0.2");
    assert.equal(clientAddress("10.0.0.2", "198.51.100.4", 2), "10.0.0.2");
    assert.equal(clientAddress("10.0.0.2", "x".repeat(100), 1), "10.0.0.2");
    assert.equal(clientAddress(undefined, undefined, 0), undefined);
    assert.equal(clientAddress("", undefined, 0), undefined);
  });
});
