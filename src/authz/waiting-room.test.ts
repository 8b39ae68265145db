import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeHtml, prefersJson, renderWaitingRoomHtml, renderWaitingRoomJson } from "./waiting-room.js";

describe("waiting room", () => {
  it("shows the position, refreshes after Retry-After, and escapes the app name", () => {
    const html = renderWaitingRoomHtml({ app: `<script>alert("x")</script>&'`, position: 3, length: 7, retryAfterSeconds: 5 });
    assert.match(html, /<meta http-equiv="refresh" content="5">/);
    assert.match(html, /number <strong>3<\/strong> of 7/);
    assert.ok(!html.includes("<script>"));
    assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
  });

  it("has a full page without a position", () => {
    const html = renderWaitingRoomHtml({ app: "a", retryAfterSeconds: 0.2 });
    assert.match(html, /queue is full/);
    assert.match(html, /content="1"/);
    assert.ok(!html.includes("number"));
  });

  it("renders JSON", () => {
    assert.deepEqual(JSON.parse(renderWaitingRoomJson({ app: "a", position: 2, length: 4, retryAfterSeconds: 5 })), {
      status: "queued",
      position: 2,
      length: 4,
      retryAfterSeconds: 5,
    });
    assert.deepEqual(JSON.parse(renderWaitingRoomJson({ app: "a", retryAfterSeconds: 9 })), { status: "full", retryAfterSeconds: 9 });
  });

  it("escapes every special character", () => {
    assert.equal(escapeHtml(`&<>"'\``), "&amp;&lt;&gt;&quot;&#39;&#96;");
  });

  const accepts: readonly [string | undefined, boolean][] = [
    [undefined, false],
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false],
    ["application/json", true],
    ["application/json, text/plain, */*", true],
    ["text/html;q=0.5, application/json", true],
    ["text/html, application/json", false],
    ["application/json;q=0, text/html", false],
    ["application/json;q=abc", false],
    ["*/*", false],
  ];
  for (const [accept, want] of accepts) {
    it(`prefersJson(${String(accept)}) = ${String(want)}`, () => assert.equal(prefersJson(accept), want));
  }
});
