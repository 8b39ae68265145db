import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isWaitingRoomPath, waitingRoomPath } from "./waiting-room-path.js";

describe("the waiting room's live endpoint", () => {
  it("lies under the app's prefix, with or without its trailing slash", () => {
    assert.equal(waitingRoomPath("/shiny/"), "/shiny/.ticketplane/wait");
    assert.equal(waitingRoomPath("/shiny"), "/shiny/.ticketplane/wait");
    assert.equal(waitingRoomPath("/"), "/.ticketplane/wait");
  });

  it("is recognised with a query string, and only for its own app", () => {
    assert.ok(isWaitingRoomPath("/shiny/.ticketplane/wait", "/shiny/"));
    assert.ok(isWaitingRoomPath("/shiny/.ticketplane/wait?t=1", "/shiny/"));
    assert.ok(!isWaitingRoomPath("/other/.ticketplane/wait", "/shiny/"));
    assert.ok(!isWaitingRoomPath("/shiny/x/.ticketplane/wait", "/shiny/"));
    assert.ok(!isWaitingRoomPath("/shiny/.ticketplane/waiting", "/shiny/"));
    assert.ok(!isWaitingRoomPath("/shiny/", "/shiny/"));
  });
});
