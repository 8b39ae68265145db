/**
 * The page a browser gets while its app starts from zero: what is happening
 * (pod asked for, scheduled and starting, ready and being checked), no
 * external assets, and a reload as soon as the app serves. The page asks the
 * resolver for progress on its own URL with the PROGRESS_HEADER; once the
 * answer is not the resolver's (the route points back at the app) or says
 * `serving`, it reloads. Without script, a meta refresh does the same.
 */
import type { Progress } from "./ports.js";

/** The request header the waiting page polls with: the resolver answers it with JSON progress, never forwards it. */
export const PROGRESS_HEADER = "x-ticketplane-resolver";
export const PROGRESS_VALUE = "progress";

/** Progress as the page and its poll see it: the ports' stages, plus `serving` once the probe went through. */
export type PageProgress = Progress | "serving";

const STEPS: readonly { readonly at: PageProgress; readonly text: string }[] = [
  { at: "waking", text: "Starting a pod for you" },
  { at: "starting", text: "Pod scheduled, starting" },
  { at: "ready", text: "Pod ready, checking it answers" },
  { at: "serving", text: "Ready" },
];
const ORDER: readonly PageProgress[] = ["asleep", "waking", "starting", "ready", "serving"];

export function escapeText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}

/** The JSON the poll gets. */
export function progressJson(app: string, progress: PageProgress): string {
  return JSON.stringify({ app, progress }) + "\n";
}

export function renderWaitingPage(app: string, progress: PageProgress): string {
  const reached = ORDER.indexOf(progress);
  const items = STEPS.map((s) => {
    const state = ORDER.indexOf(s.at) < reached ? "done" : ORDER.indexOf(s.at) === reached ? "now" : "todo";
    return `<li class="${state}" data-step="${s.at}">${escapeText(s.text)}</li>`;
  }).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<noscript><meta http-equiv="refresh" content="3"></noscript>
<title>Starting ${escapeText(app)}…</title>
<style>body{font:16px system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em;color:#222}li{margin:.4em 0}.done{color:#2a7}.done::before{content:"✓ "}.now{font-weight:bold}.now::before{content:"… "}.todo{color:#999}</style>
</head><body><h1>Starting ${escapeText(app)}</h1>
<p>The app was asleep. This page reloads by itself as soon as it answers.</p>
<ol id="steps" data-progress="${progress}">${items}</ol>
<script>
(function(){var order=${JSON.stringify(ORDER)};function show(p){var r=order.indexOf(p);document.querySelectorAll("#steps li").forEach(function(li){var i=order.indexOf(li.getAttribute("data-step"));li.className=i<r?"done":i===r?"now":"todo";});}
function poll(){fetch(location.href,{headers:{"${PROGRESS_HEADER}":"${PROGRESS_VALUE}"},cache:"no-store"}).then(function(r){var t=r.headers.get("content-type")||"";if(t.indexOf("application/json")<0){location.reload();return null;}return r.json();}).then(function(j){if(j===null)return;if(!j||typeof j.progress!=="string"||j.progress==="serving"){location.reload();return;}show(j.progress);setTimeout(poll,1000);}).catch(function(){setTimeout(poll,2000);});}
setTimeout(poll,1000);})();
</script></body></html>
`;
}

/** A page navigation: a GET that asks for HTML and is not a script's request (XHR, fetch). */
export function isPageNavigation(method: string, headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  if (method !== "GET") return false;
  const accept = String(headers["accept"] ?? "");
  if (!accept.includes("text/html")) return false;
  const mode = headers["sec-fetch-mode"];
  if (mode !== undefined && mode !== "navigate") return false;
  return headers["x-requested-with"] === undefined;
}
