/**
 * `GET /api/apps`, the same in every mode: per app its figures, pods and
 * queue. Never a token or a secret.
 */
import { formatHostPort } from "../config/address.js";
import { appKey } from "../config/app-spec.js";
import { isServing } from "../tickets/pod-state.js";
import type { TicketViews } from "../tickets/ports.js";

export function appsView(views: Pick<TicketViews, "apps" | "pods" | "figures">): unknown {
  return {
    apps: views.apps().map((spec) => {
      const key = appKey(spec.namespace, spec.name);
      const figures = views.figures(key);
      return {
        app: key,
        pathPrefix: spec.pathPrefix,
        ...(spec.host !== undefined ? { host: spec.host } : {}),
        gateway: spec.gateway,
        figures,
        queueLength: figures?.queued ?? 0,
        pods: views.pods(key).map((p) => ({
          name: p.name,
          address: formatHostPort({ host: p.host, port: p.port }),
          ready: p.ready,
          draining: p.draining,
          routable: p.routable,
          serving: isServing(p),
          slots: p.slots,
          used: p.used,
        })),
      };
    }),
  };
}
