import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeHtml, formatWait, prefersJson, renderAdmittedJson, renderWaitingRoomHtml, renderWaitingRoomJson } from "./waiting-room.js";

describe("waiting room", () => {
  it("shows the position, refreshes after Retry-After, and escapes the app name", () => {
    const html = renderWaitingRoomHtml({ app: `<script>alert("x")</script>&'`, position: 3, length: 7, retryAfterSeconds: 5 });
    assert.match(html, /<meta http-equiv="refresh" content="5">/);
    assert.match(html, /number <strong id="tp-position">3<\/strong> of <span id="tp-length">7<\/span>/);
    assert.ok(!html.includes("<script>"));
    assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
  });

  it("with a live endpoint: polls it from an inline script, announces the position, refreshes only without JavaScript", () => {
    const html = renderWaitingRoomHtml({ app: "a", position: 1, length: 2, retryAfterSeconds: 5, estimatedWaitSeconds: 90, pollPath: "/a/.ticketplane/wait" });
    assert.match(html, /<noscript><meta http-equiv="refresh" content="5"><\/noscript>/);
    assert.match(html, /data-poll="\/a\/\.ticketplane\/wait"/);
    assert.match(html, /aria-live="polite"[^>]*>All slots are in use\. You are number <strong id="tp-position">1<\/strong>/);
    assert.match(html, /Estimated wait: about 2 minutes\./);
    assert.match(html, /<script>\(function \(\) \{/);
    assert.ok(!/<(script|link|img)[^>]+(src|href)=/.test(html), "nothing loaded from anywhere");
  });

  it("words the wait", () => {
    assert.equal(formatWait(undefined), "Estimating your wait…");
    assert.equal(formatWait(0.2), "Estimated wait: about 1 seconds.");
    assert.equal(formatWait(42), "Estimated wait: about 42 seconds.");
    assert.equal(formatWait(60), "Estimated wait: about 1 minute.");
    assert.equal(formatWait(600), "Estimated wait: about 10 minutes.");
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
      estimatedWaitSeconds: null,
    });
    assert.deepEqual(JSON.parse(renderAdmittedJson()), { status: "admitted" });
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
