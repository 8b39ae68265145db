/** The one lookup of an app's spec by its key among the apps the ticket core serves. */
import { appKey, type AppKey, type AppSpec } from "../config/app-spec.js";
import type { TicketViews } from "./ports.js";

/** Each apps() answer indexed by key once: the ticket core answers the same array until its apps change, so a lookup per request costs a map read, not a scan. */
const indexes = new WeakMap<readonly AppSpec[], ReadonlyMap<AppKey, AppSpec>>();

/** The spec of `app` (namespace/name) among `views.apps()`, or undefined when no such app is served. */
export function specOf(views: Pick<TicketViews, "apps">, app: AppKey): AppSpec | undefined {
  const apps = views.apps();
  let index = indexes.get(apps);
  if (index === undefined) {
    index = new Map(apps.map((s) => [appKey(s.namespace, s.name), s]));
    indexes.set(apps, index);
  }
  return index.get(app);
}
