/** The one lookup of an app's spec by its key among the apps the ticket core serves. */
import { appKey, type AppKey, type AppSpec } from "../config/app-spec.js";
import type { TicketViews } from "./ports.js";

/** The spec of `app` (namespace/name) among `views.apps()`, or undefined when no such app is served. */
export function specOf(views: Pick<TicketViews, "apps">, app: AppKey): AppSpec | undefined {
  return views.apps().find((s) => appKey(s.namespace, s.name) === app);
}
