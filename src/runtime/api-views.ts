/**
 * The views the admin API, the dashboard and `ticketplane status` show, the
 * same in every mode, each defined once here: `GET /api/apps` (appsView: per
 * app its figures, pods and queue) and `GET /api/status` (statusView: every
 * app as in /api/apps with its mode and recent scale decisions, and the
 * gateways with the versions they ACKed). Never a token or a secret.
 */
import { formatHostPort } from "../config/address.js";
import { appKey, type AppKey, type AppSpec } from "../config/app-spec.js";
import { isServing } from "../tickets/pod-state.js";
import type { TicketViews } from "../tickets/ports.js";
import type { AppFigures, QueueView } from "../tickets/types.js";
import type { XdsStatus } from "../xds/index.js";
import type { ScaleDecisionView, ScaleViews } from "./ports.js";

/** One pod as the views show it. `free` counts only on a serving pod (what new users can get). */
export interface PodStatusView {
  readonly name: string;
  readonly address: string;
  readonly ready: boolean;
  readonly draining: boolean;
  readonly routable: boolean;
  readonly serving: boolean;
  readonly slots: number;
  readonly used: number;
  readonly free: number;
  /** Open WebSockets (long-lived connections) on the pod's tickets. */
  readonly connections: number;
}

export interface AppView {
  readonly app: AppKey;
  readonly pathPrefix: string;
  readonly host?: string;
  readonly gateway: string;
  readonly figures: AppFigures | undefined;
  readonly queueLength: number;
  /** The waiting users in line order (no token, no address). */
  readonly queue: readonly QueueView[];
  /** Open WebSockets on every pod of the app. */
  readonly connections: number;
  readonly pods: readonly PodStatusView[];
}

export type AppViewSources = Pick<TicketViews, "apps" | "pods" | "figures" | "tickets" | "queue">;

export function appView(views: AppViewSources, spec: AppSpec): AppView {
  const key = appKey(spec.namespace, spec.name);
  const figures = views.figures(key);
  const connections = new Map<string, number>();
  for (const t of views.tickets(key)) if (t.openConnections > 0) connections.set(t.pod, (connections.get(t.pod) ?? 0) + t.openConnections);
  const pods = views.pods(key).map((p): PodStatusView => {
    const serving = isServing(p);
    return {
      name: p.name,
      address: formatHostPort({ host: p.host, port: p.port }),
      ready: p.ready,
      draining: p.draining,
      routable: p.routable,
      serving,
      slots: p.slots,
      used: p.used,
      free: serving ? Math.max(0, p.slots - p.used) : 0,
      connections: connections.get(p.name) ?? 0,
    };
  });
  return {
    app: key,
    pathPrefix: spec.pathPrefix,
    ...(spec.host !== undefined ? { host: spec.host } : {}),
    gateway: spec.gateway,
    figures,
    queueLength: figures?.queued ?? 0,
    queue: views.queue(key),
    connections: pods.reduce((n, p) => n + p.connections, 0),
    pods,
  };
}

/** `GET /api/apps`. */
export function appsView(views: AppViewSources): { readonly apps: readonly AppView[] } {
  return { apps: views.apps().map((spec) => appView(views, spec)) };
}

/** One xDS type on one gateway stream: what it ACKed and whether that is the current version. */
export interface GatewayTypeView {
  /** Envoy's type name: Cluster, ClusterLoadAssignment, Listener, RouteConfiguration. */
  readonly type: string;
  readonly ackedVersion: string | null;
  /** The node group's current version of the type. */
  readonly currentVersion: string | null;
  readonly inSync: boolean;
  /** The last NACK's message, while the type's last answer was a NACK. */
  readonly nack?: string;
}

export interface GatewayView {
  readonly nodeId: string;
  readonly group: string;
  readonly protocol: string;
  /** RFC 3339. */
  readonly connectedSince: string;
  readonly waitingForConfig: boolean;
  /** Every type's ACKed version is the group's current one. */
  readonly inSync: boolean;
  readonly types: readonly GatewayTypeView[];
}

/** `GET /api/status` and each dashboard update: apps with mode and decisions, and the gateways. */
export interface StatusView {
  /** RFC 3339. */
  readonly generatedAt: string;
  readonly apps: readonly (AppView & { readonly mode: "Serve" | "Proxy"; readonly decisions: readonly ScaleDecisionView[] })[];
  readonly gateways: readonly GatewayView[];
}

export interface StatusSources {
  readonly views: AppViewSources;
  readonly xds: () => XdsStatus;
  /** The reconciler, where one runs: mode and recent decisions. Without it every app is Serve with no decisions. */
  readonly scale?: ScaleViews;
  readonly now: () => number;
}

export function statusView(s: StatusSources): StatusView {
  const apps = s.views.apps().map((spec) => {
    const view = appView(s.views, spec);
    return { ...view, mode: s.scale?.mode(view.app) ?? "Serve", decisions: s.scale?.recentDecisions(view.app) ?? [] };
  });
  return { generatedAt: new Date(s.now()).toISOString(), apps, gateways: gatewaysView(s.xds()) };
}

/** Per connected gateway stream: its node, group and, per type, the version it ACKed against the group's current one. */
export function gatewaysView(xds: XdsStatus): GatewayView[] {
  const current = new Map(xds.groups.map((g) => [g.group, g.versions]));
  return xds.streams.map((stream) => {
    const versions = current.get(stream.group) ?? {};
    const types = stream.types.map((t): GatewayTypeView => {
      const currentVersion = versions[t.typeUrl] ?? null;
      const ackedVersion = t.ackedVersion ?? null;
      // A NACK matters while the version it rejected is the last one sent.
      const nack = t.lastNack !== undefined && t.lastNack.version === t.lastSentVersion ? t.lastNack.message : undefined;
      return {
        type: t.typeUrl.slice(t.typeUrl.lastIndexOf(".") + 1),
        ackedVersion,
        currentVersion,
        inSync: ackedVersion !== null && ackedVersion === currentVersion,
        ...(nack === undefined ? {} : { nack }),
      };
    });
    return {
      nodeId: stream.nodeId,
      group: stream.group,
      protocol: stream.protocol,
      connectedSince: new Date(stream.connectedSince).toISOString(),
      waitingForConfig: stream.waitingForConfig,
      inSync: types.length > 0 && types.every((t) => t.inSync),
      types,
    };
  });
}

