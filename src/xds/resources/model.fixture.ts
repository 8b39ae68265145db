/** Test fixtures: GatewayModels for the builder tests (not used by src). */
import type { AppModel, GatewayModel, PodModel } from "./model.js";

export function pod(name: string, host: string, port = 8080): PodModel {
  return { name, host, port };
}

export function app(overrides: Partial<AppModel> & Pick<AppModel, "name">): AppModel {
  return { namespace: "apps", pathPrefix: `/${overrides.name}/`, podPath: "/", mode: "serve", pods: [], ...overrides };
}

/** Two apps on any host (one nested under the other's prefix), one on its own host, extAuthz on. */
export function sampleModel(overrides: Partial<GatewayModel> = {}): GatewayModel {
  return {
    group: "default",
    listener: { address: "0.0.0.0", port: 8080 },
    extAuthz: { cluster: { host: "127.0.0.1", port: 9001 }, timeoutMs: 500 },
    accessLog: { cluster: { host: "ticketplane.ticketplane-system.svc.cluster.local", port: 9002 }, flushIntervalMs: 10_000 },
    resolver: { host: "127.0.0.1", port: 9003 },
    apps: [
      app({ name: "shiny", pods: [pod("shiny-b", "10.0.0.2", 3838), pod("shiny-a", "10.0.0.1", 3838)] }),
      app({ name: "shiny-admin", pathPrefix: "/shiny/admin/", podPath: "/admin/", pods: [pod("adm-0", "10.0.1.1")] }),
      app({ name: "lab", host: "lab.example.com", pathPrefix: "/", mode: "proxy", pods: [] }),
    ],
    ...overrides,
  };
}
