/**
 * The waiting room's bodies: a small self-refreshing HTML page (meta refresh
 * equal to Retry-After) or JSON for clients that prefer it. Every value that
 * reaches the HTML is escaped.
 */

export interface WaitingRoomView {
  /** App name as shown to the user. */
  readonly app: string;
  /** 1-based queue position, or undefined when the queue is full. */
  readonly position?: number;
  readonly length?: number;
  readonly retryAfterSeconds: number;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** The HTML page. Inline styles only, no scripts: the meta refresh does the polling. */
export function renderWaitingRoomHtml(view: WaitingRoomView): string {
  const app = escapeHtml(view.app);
  const refresh = String(Math.max(1, Math.floor(view.retryAfterSeconds)));
  const queued = view.position !== undefined;
  const title = queued ? `Waiting for ${app}` : `${app} is full`;
  const line = queued
    ? `<p>All slots are in use. You are number <strong>${String(view.position)}</strong> of ${String(view.length ?? view.position)} in the queue.</p>`
    : `<p>All slots are in use and the queue is full. Please try again shortly.</p>`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="refresh" content="${refresh}">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${title}</title>` +
    `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style>` +
    `</head><body><h1>${title}</h1>${line}<p>This page refreshes every ${refresh} seconds.</p></body></html>`
  );
}

/** The JSON body: `{status:"queued",position,length,retryAfterSeconds}` or `{status:"full",retryAfterSeconds}`. */
export function renderWaitingRoomJson(view: WaitingRoomView): string {
  const retryAfterSeconds = Math.max(1, Math.floor(view.retryAfterSeconds));
  if (view.position === undefined) return JSON.stringify({ status: "full", retryAfterSeconds });
  return JSON.stringify({ status: "queued", position: view.position, length: view.length ?? view.position, retryAfterSeconds });
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
