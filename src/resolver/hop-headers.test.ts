import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { endToEnd, forwardHeaders } from "./hop-headers.js";

describe("forwardHeaders", () => {
  it("drops hop-by-hop headers and those the connection header names, keeping names as received and in order", () => {
    const raw = ["Host", "a.example", "Connection", "keep-alive, X-Secret", "Keep-Alive", "timeout=5", "x-secret", "s", "Accept", "*/*", "Transfer-Encoding", "chunked", "TE", "trailers", "Upgrade", "h2c"];
    assert.deepEqual(forwardHeaders(raw), ["Host", "a.example", "Accept", "*/*"]);
  });

  it("replaces received headers by `set` (any case) and appends `add`, keeping repeated names", () => {
    const raw = ["X-Forwarded-For", "1.2.3.4", "Set-Cookie", "a=1", "x-ticketplane-pod", "forged"];
    const out = forwardHeaders(raw, { set: [["x-ticketplane-pod", "p1"], ["x-forwarded-for", "1.2.3.4, 127.0.0.1"]], add: [["set-cookie", "t=2"]] });
    assert.deepEqual(out, ["Set-Cookie", "a=1", "x-ticketplane-pod", "p1", "x-forwarded-for", "1.2.3.4, 127.0.0.1", "set-cookie", "t=2"]);
  });

  it("drops the names it is told to, and pairs them for raw heads", () => {
    assert.deepEqual(endToEnd(["Content-Length", "3", "Content-Type", "text/plain", "Connection", "close"], new Set(["content-length"])), [["Content-Type", "text/plain"]]);
  });
});
