/**
 * The bytes of Check's two common answers — a valid ticket, a ticket just
 * issued — written from parts encoded once: a pod's routing headers once
 * per pod, the app header and the queue-cookie deletion once per app spec.
 * Per call only the ticket header and the new ticket's Set-Cookie are
 * encoded. The bytes are exactly those encodeCheckResponse writes for
 * toCheckResponse's answer (a test holds them equal); both build every
 * header with the same functions (check-response.ts).
 *
 * The parts are cached by object identity, so they cannot go stale: a pod
 * that comes back at another address is a new PodRecord, a changed app is
 * a new AppSpec, and either simply misses the cache. Weakly held: a part
 * lives as long as its pod or spec. A pod part also records the app key
 * it was built for (the cluster name holds it), and is rebuilt if the same
 * pod object is ever answered for another app.
 */
import type { AppKey, AppSpec } from "../config/app-spec.js";
import type { PodView } from "../tickets/types.js";
import { appHeader, clearQueueCookie, podHeaders, setCookie, ticketCookie, ticketHeader } from "./check-response.js";
import { type EncodedCheckResponse, encodeAllowed, encodeOkOptions } from "./check-response-codec.js";
import type { CheckOutcome } from "./decide-check.js";

interface PodPart {
  readonly app: AppKey;
  readonly bytes: Buffer;
}

interface AppParts {
  readonly key: AppKey;
  /** The app header, encoded. */
  readonly header: Buffer;
  /** The Set-Cookie that deletes the queue cookie, encoded. */
  readonly clearQueue: Buffer;
  /** The new ticket's Set-Cookie value around the token: `name=` and `; Path=…` (the cookie's attributes). */
  readonly cookieBefore: string;
  readonly cookieAfter: string;
}

const NO_BYTES = Buffer.alloc(0);

export class AllowedResponses {
  readonly #pods = new WeakMap<PodView, PodPart>();
  readonly #apps = new WeakMap<AppSpec, AppParts>();

  /** The encoded answer for a valid ticket or a ticket just issued (not on the waiting room's live endpoint); undefined for every other outcome. */
  answer(outcome: CheckOutcome): EncodedCheckResponse | undefined {
    if (outcome.kind === "valid" && outcome.probe !== true) {
      return encodeAllowed({ podPart: this.#pod(outcome.key, outcome.pod), ticket: ticketHeader(outcome.ticket.id), appPart: this.#app(outcome.key, outcome.app).header });
    }
    if (outcome.kind === "issued" && outcome.probe !== true) {
      const app = this.#app(outcome.key, outcome.app);
      return encodeAllowed({
        podPart: this.#pod(outcome.key, outcome.pod),
        ticket: ticketHeader(outcome.ticket.id),
        appPart: app.header,
        cookie: setCookie(app.cookieBefore + outcome.token + app.cookieAfter),
        cookiePart: outcome.clearQueueCookie ? app.clearQueue : NO_BYTES,
      });
    }
    return undefined;
  }

  #pod(app: AppKey, pod: PodView): Buffer {
    const cached = this.#pods.get(pod);
    if (cached !== undefined && cached.app === app) return cached.bytes;
    const bytes = encodeOkOptions("headers", podHeaders(app, pod));
    this.#pods.set(pod, { app, bytes });
    return bytes;
  }

  #app(key: AppKey, spec: AppSpec): AppParts {
    const cached = this.#apps.get(spec);
    if (cached !== undefined && cached.key === key) return cached;
    // The cookie as ticketCookie writes it, around an empty token: Set-Cookie values start `name=`.
    const cookieBefore = `${spec.ticket.cookieName}=`;
    const cookieAfter = (ticketCookie(spec, "").header?.value ?? "").slice(cookieBefore.length);
    const parts = { key, header: encodeOkOptions("headers", [appHeader(key)]), clearQueue: encodeOkOptions("responseHeadersToAdd", [clearQueueCookie(spec)]), cookieBefore, cookieAfter };
    this.#apps.set(spec, parts);
    return parts;
  }
}
