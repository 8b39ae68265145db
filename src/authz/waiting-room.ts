/**
 * The waiting room's bodies: an HTML page that keeps itself current, or JSON
 * for clients that prefer it (the same fields). Every value that reaches
 * the HTML is escaped; the page loads nothing from anywhere.
 *
 * The page polls the app's live endpoint (routing's waitingRoomPath), which
 * Check answers itself with this JSON: position and estimate are updated in
 * place (the position in an aria-live region, so a screen reader announces
 * it), and once the answer is "admitted" (the poll claimed the slot held for
 * this user and set the ticket cookie) the page reloads into the app.
 * Without JavaScript a meta refresh every Retry-After does the polling.
 */

export interface WaitingRoomView {
  /** App name as shown to the user. */
  readonly app: string;
  /** 1-based queue position, or undefined when the queue is full. */
  readonly position?: number;
  readonly length?: number;
  readonly retryAfterSeconds: number;
  /** The probable wait in seconds; undefined while too little is known. */
  readonly estimatedWaitSeconds?: number;
  /** The live endpoint the page polls (same origin); undefined: the page only refreshes itself. */
  readonly pollPath?: string;
}

/** How often the page polls the live endpoint: a freed slot is taken within this. */
export const POLL_MS = 1_000;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** "about 40 seconds", "about 3 minutes", or the words for an unknown wait. The page's script words it the same way. */
export function formatWait(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "Estimating your wait…";
  if (seconds < 60) return `Estimated wait: about ${String(Math.max(1, Math.round(seconds)))} seconds.`;
  const minutes = Math.round(seconds / 60);
  return `Estimated wait: about ${String(minutes)} minute${minutes === 1 ? "" : "s"}.`;
}

/** The script the page runs (inline: the denied response is one body, and nothing is loaded from elsewhere). */
const CLIENT_SCRIPT = `(function () {
  var room = document.getElementById("tp-waiting");
  var url = room.getAttribute("data-poll");
  var every = Number(room.getAttribute("data-poll-ms")) || 1000;
  var position = document.getElementById("tp-position");
  var length = document.getElementById("tp-length");
  var estimate = document.getElementById("tp-estimate");
  var status = document.getElementById("tp-status");
  var failures = 0;
  function wait(s) {
    if (typeof s !== "number" || !isFinite(s)) return "Estimating your wait\\u2026";
    if (s < 60) return "Estimated wait: about " + Math.max(1, Math.round(s)) + " seconds.";
    var m = Math.round(s / 60);
    return "Estimated wait: about " + m + " minute" + (m === 1 ? "" : "s") + ".";
  }
  function show(body) {
    if (body.status === "admitted") {
      status.textContent = "A slot is yours. Taking you in\\u2026";
      location.reload();
      return true;
    }
    if (body.status === "queued") {
      if (position.textContent !== String(body.position)) position.textContent = String(body.position);
      length.textContent = String(body.length);
      estimate.textContent = wait(body.estimatedWaitSeconds);
    } else if (body.status === "full") {
      estimate.textContent = "The queue is full; trying again\\u2026";
    }
    return false;
  }
  function poll() {
    fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (body) { failures = 0; if (!show(body)) setTimeout(poll, every); })
      .catch(function () { failures++; setTimeout(poll, Math.min(every * Math.pow(2, failures), 30000)); });
  }
  setTimeout(poll, every);
})();`;

/** The HTML page. Inline style and script only. */
export function renderWaitingRoomHtml(view: WaitingRoomView): string {
  const app = escapeHtml(view.app);
  const refresh = String(Math.max(1, Math.floor(view.retryAfterSeconds)));
  const queued = view.position !== undefined;
  const live = queued && view.pollPath !== undefined;
  const title = queued ? `Waiting for ${app}` : `${app} is full`;
  const line = queued
    ? `<p id="tp-status" role="status" aria-live="polite" aria-atomic="true">All slots are in use. You are number <strong id="tp-position">${String(view.position)}</strong> of <span id="tp-length">${String(view.length ?? view.position)}</span> in the queue.</p>` +
      `<p id="tp-estimate">${escapeHtml(formatWait(view.estimatedWaitSeconds))}</p>`
    : `<p role="status">All slots are in use and the queue is full. Please try again shortly.</p>`;
  const note = live
    ? `<p>This page updates by itself and lets you in as soon as a slot is yours. Reloading or coming back soon keeps your place.</p>`
    : `<p>This page refreshes every ${refresh} seconds.</p>`;
  const refreshTag = `<meta http-equiv="refresh" content="${refresh}">`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    (live ? `<noscript>${refreshTag}</noscript>` : refreshTag) +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${title}</title>` +
    `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}strong{font-size:1.4em}</style>` +
    `</head><body><main id="tp-waiting"${live ? ` data-poll="${escapeHtml(view.pollPath ?? "")}" data-poll-ms="${String(POLL_MS)}"` : ""}>` +
    `<h1>${title}</h1>${line}${note}</main>` +
    (live ? `<script>${CLIENT_SCRIPT}</script>` : "") +
    `</body></html>`
  );
}

/**
 * The JSON body: `{status:"queued",position,length,retryAfterSeconds,estimatedWaitSeconds,pollPath}`
 * (estimatedWaitSeconds null while unknown) or `{status:"full",retryAfterSeconds}`.
 */
export function renderWaitingRoomJson(view: WaitingRoomView): string {
  const retryAfterSeconds = Math.max(1, Math.floor(view.retryAfterSeconds));
  if (view.position === undefined) return JSON.stringify({ status: "full", retryAfterSeconds });
  return JSON.stringify({
    status: "queued",
    position: view.position,
    length: view.length ?? view.position,
    retryAfterSeconds,
    estimatedWaitSeconds: view.estimatedWaitSeconds ?? null,
    ...(view.pollPath === undefined ? {} : { pollPath: view.pollPath }),
  });
}

/** The live endpoint's answer once the user holds a ticket: the page reloads into the app. */
export function renderAdmittedJson(): string {
  return JSON.stringify({ status: "admitted" });
}

/**
 * True when the Accept header ranks `application/json` above an explicit
 * `text/html` (q-values honoured; ties go to HTML, so browsers get the page;
 * `*\/*` does not count for HTML, so `application/json, *\/*` is JSON).
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes("json")) return false;
  let json = 0;
  let html = 0;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";");
    const t = type.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split("=");
      if (k?.trim() === "q" && v !== undefined) {
        const n = Number(v.trim());
        q = Number.isFinite(n) ? n : 0;
      }
    }
    if (t === "application/json" || t === "application/*") json = Math.max(json, q);
    else if (t === "text/html" || t === "text/*") html = Math.max(html, q);
  }
  return json > html;
}
