import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { makeSpec } from "../../test/support/app-spec.js";
import type { AppSpec } from "../config/app-spec.js";
import type { PodView, TicketView } from "../tickets/types.js";
import { AllowedResponses } from "./allowed-responses.js";
import { toCheckResponse } from "./check-response.js";
import { encodeCheckResponse } from "./check-response-codec.js";
import type { CheckOutcome } from "./decide-check.js";

const key = "ns/shiny";
const app = makeSpec({ name: "shiny", ticket: { cookieName: "tp", queueCookieName: "tpq", cookieSecure: true, maxLifetimeMs: 1_234_567 } });

function podView(name: string, host: string, port = 3838): PodView {
  return { name, host, port, ready: true, draining: false, canary: false, routable: true, slots: 2, used: 1 };
}

function ticketOn(pod: PodView, id: string): TicketView {
  return { id, app: key, pod: pod.name, slot: 0, issuedAt: 0, expiresAt: 1, lastActiveAt: 0, openConnections: 0 };
}

/** The bytes the generic path writes for `outcome`: toCheckResponse, then the one-pass encoder (itself held to the generated encoder's bytes). */
function generic(outcome: CheckOutcome): Buffer {
  return encodeCheckResponse(toCheckResponse(outcome));
}

function encoded(responses: AllowedResponses, outcome: CheckOutcome): Buffer {
  const response = responses.answer(outcome);
  assert.ok(response !== undefined, `${outcome.kind} is answered from encoded parts`);
  return encodeCheckResponse(response);
}

function issued(spec: AppSpec, pod: PodView, id: string, clearQueueCookie: boolean): Extract<CheckOutcome, { kind: "issued" }> {
  return { kind: "issued", app: spec, key, ticket: ticketOn(pod, id), pod, token: `t1.k1.${id}.mac`, clearQueueCookie };
}

describe("AllowedResponses", () => {
  it("writes the generic path's bytes for valid and issued answers, on first use and from its cached parts", () => {
    const responses = new AllowedResponses();
    const pods = [podView("shiny-0", "10.0.0.7"), podView("shiny-ä", "fd00::7", 80), podView("p".repeat(300), "[fd00::8]", 65_535)];
    for (let round = 0; round < 2; round++) {
      for (const pod of pods) {
        for (const id of ["t1", `ticket-${"x".repeat(200)}`]) {
          const outcomes: CheckOutcome[] = [{ kind: "valid", app, key, ticket: ticketOn(pod, id), pod }, issued(app, pod, id, false), { ...issued(app, pod, id, true), replaced: "expired" }];
          for (const outcome of outcomes) assert.deepEqual(encoded(responses, outcome), generic(outcome), `${outcome.kind} on ${pod.name} (round ${String(round)})`);
        }
      }
    }
  });

  it("decodes to the answer toCheckResponse builds", () => {
    const pod = podView("shiny-0", "10.0.0.7");
    const outcome = issued(app, pod, "t9", true);
    const response = new AllowedResponses().answer(outcome);
    assert.deepEqual(CheckResponse.toJSON(response ?? {}), CheckResponse.toJSON(toCheckResponse(outcome)));
    assert.equal(response?.okResponse?.headers[0]?.header?.value, "ns/shiny/shiny-0");
  });

  it("leaves every other answer, and the waiting room's live endpoint, to toCheckResponse", () => {
    const responses = new AllowedResponses();
    const pod = podView("shiny-0", "10.0.0.7");
    assert.equal(responses.answer({ kind: "valid", app, key, ticket: ticketOn(pod, "t1"), pod, probe: true }), undefined);
    assert.equal(responses.answer({ ...issued(app, pod, "t1", false), probe: true }), undefined);
    assert.equal(responses.answer({ kind: "full", app, key, reason: "queue_full", retryAfterMs: 1_000, json: false }), undefined);
    assert.equal(responses.answer({ kind: "not_found", reason: "no app" }), undefined);
  });

  it("follows a changed app: a new spec under the same key gets its own cookie attributes", () => {
    const responses = new AllowedResponses();
    const pod = podView("shiny-0", "10.0.0.7");
    encoded(responses, issued(app, pod, "t1", true));
    const changed = makeSpec({ name: "shiny", pathPrefix: "/new/", ticket: { cookieName: "other", queueCookieName: "otherq", cookieSecure: false } });
    const outcome = issued(changed, pod, "t2", true);
    assert.deepEqual(encoded(responses, outcome), generic(outcome));
    const cookies = responses.answer(outcome)?.okResponse?.responseHeadersToAdd.map((h) => h.header?.value);
    assert.deepEqual(cookies, ["other=t1.k1.t2.mac; Path=/new/; HttpOnly; SameSite=Lax; Max-Age=43200", "otherq=; Path=/new/; HttpOnly; SameSite=Lax; Max-Age=0"]);
  });

  it("follows a pod that came back at another address (a new pod record), and a pod answered for another app", () => {
    const responses = new AllowedResponses();
    const before = podView("shiny-0", "10.0.0.7");
    encoded(responses, { kind: "valid", app, key, ticket: ticketOn(before, "t1"), pod: before });
    const after = podView("shiny-0", "10.0.0.9");
    const moved: CheckOutcome = { kind: "valid", app, key, ticket: ticketOn(after, "t2"), pod: after };
    assert.deepEqual(encoded(responses, moved), generic(moved));
    assert.equal(responses.answer(moved)?.okResponse?.headers[2]?.header?.value, "10.0.0.9:3838");
    const other = makeSpec({ name: "other" });
    const elsewhere: CheckOutcome = { kind: "valid", app: other, key: "ns/other", ticket: ticketOn(after, "t3"), pod: after };
    assert.deepEqual(encoded(responses, elsewhere), generic(elsewhere));
    assert.equal(responses.answer(elsewhere)?.okResponse?.headers[0]?.header?.value, "ns/other/shiny-0");
  });
});
