/**
 * A thin adapter of the reconciler's ports over plain HTTP to the test API
 * server, for tests and benches (the real adapters live in src/kube/): the
 * scale subresource with a resourceVersion precondition, pod annotations by
 * merge patch, the TicketedApp status subresource, core/v1 Events. Errors
 * map to our family as the real adapters' do (409 → TP_CONFLICT, 404 →
 * TP_NOT_FOUND, else TP_UNAVAILABLE with a 429's Retry-After as
 * `retryAfterMs`). One app, whose pods carry `app=<deployment>`, in
 * namespace `default`.
 */
import { ERROR_CODES, TicketplaneError } from "../../src/common/errors.js";
import { DRAINING_ANNOTATION, formatDrainMark, parseDeletionCost, parseDrainMark, POD_DELETION_COST_ANNOTATION } from "../../src/config/pod-annotations.js";
import type { DrainMark } from "../../src/config/pod-annotations.js";
import type { AppEvent, AppStatus, ReconcilePorts, ReplicaOwner, ScaleReading, WorkloadRef } from "../../src/reconcile/index.js";
import type { ApiClient, Reply } from "./kube-api/http-client.js";
import type { KObject } from "./kube-api/kinds.js";
import { PODS, TICKETED_APPS } from "./kube-api/objects.js";

/** Maps a non-2xx reply to our error family as the real adapters do (409 → TP_CONFLICT, 429 → retryAfterMs). */
export function check(r: Reply, what: string): Reply {
  if (r.status < 300) return r;
  const code = r.status === 409 ? ERROR_CODES.CONFLICT : r.status === 404 ? ERROR_CODES.NOT_FOUND : ERROR_CODES.UNAVAILABLE;
  const retryAfter = Number(r.headers.get("retry-after"));
  throw new TicketplaneError(code, `${what}: ${r.status} ${typeof r.body.message === "string" ? r.body.message : ""}`, { status: r.status, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) });
}

export const annotations = (o: KObject): Record<string, string> => (o.metadata?.annotations ?? {});
export const isReady = (p: KObject) => ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

/** The thin adapter: the reconciler's ports over the API, for one app whose pods carry `app=web`. */
export class HttpPorts {
  owner: ReplicaOwner = "ticketplane";
  /** Called once before the next scale write (a concurrent writer). */
  beforeWrite: (() => Promise<void>) | undefined;
  readonly events: AppEvent[] = [];
  /** When each scale write was sent (performance.now()), for latency figures. */
  readonly writesSentAt: number[] = [];
  constructor(readonly api: ApiClient, readonly deployment = "web") {}

  #listing: Promise<KObject[]> | undefined;

  /** The app's pods. Concurrent callers share one list request, as the real adapters share one informer cache. */
  pods(): Promise<KObject[]> {
    this.#listing ??= this.#list().finally(() => (this.#listing = undefined));
    return this.#listing;
  }

  async #list(): Promise<KObject[]> {
    return (check(await this.api.get(`${PODS}?labelSelector=app%3D${this.deployment}`), "list pods").body.items ?? []) as KObject[];
  }

  async patchPod(name: string, annotationsPatch: Record<string, string | null>): Promise<boolean> {
    const r = await this.api.patch(`${PODS}/${name}`, { metadata: { annotations: annotationsPatch } }, "application/merge-patch+json");
    if (r.status === 404) return false;
    check(r, `patch pod ${name}`);
    return true;
  }

  get ports(): ReconcilePorts {
    return {
      scale: {
        read: async (ref: WorkloadRef): Promise<ScaleReading | undefined> => {
          const r = await this.api.get(`/apis/apps/v1/namespaces/${ref.namespace}/deployments/${ref.deployment}/scale`);
          if (r.status === 404) return undefined;
          check(r, "read scale");
          return { replicas: Number((r.body.spec as { replicas?: number }).replicas ?? 0), resourceVersion: String(r.body.metadata?.resourceVersion), owner: this.owner };
        },
        write: async (ref, replicas, resourceVersion) => {
          const hook = this.beforeWrite;
          this.beforeWrite = undefined;
          await hook?.();
          this.writesSentAt.push(performance.now());
          const body = { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: ref.deployment, namespace: ref.namespace, resourceVersion }, spec: { replicas } };
          check(await this.api.put(`/apis/apps/v1/namespaces/${ref.namespace}/deployments/${ref.deployment}/scale`, body), "write scale");
        },
      },
      costs: {
        read: async () => new Map((await this.pods()).flatMap((p) => { const c = parseDeletionCost(annotations(p)[POD_DELETION_COST_ANNOTATION]); return c === undefined ? [] : [[p.metadata?.name ?? "", c] as const]; })),
        set: async (_app, costs) => {
          for (const [pod, cost] of costs) await this.patchPod(pod, { [POD_DELETION_COST_ANNOTATION]: String(cost) });
        },
      },
      draining: {
        read: async () => new Map((await this.pods()).flatMap((p) => { const m = parseDrainMark(annotations(p)[DRAINING_ANNOTATION]); return m === undefined ? [] : [[p.metadata?.name ?? "", m] as const]; })),
        mark: async (_app, pod, mark: DrainMark) => this.patchPod(pod, { [DRAINING_ANNOTATION]: formatDrainMark(mark) }),
        unmark: async (_app, pod) => void (await this.patchPod(pod, { [DRAINING_ANNOTATION]: null })),
      },
      status: {
        write: async (_app, status: AppStatus) => void check(await this.api.patch(`${TICKETED_APPS}/${this.deployment}/status`, { status }, "application/merge-patch+json"), "write status"),
      },
      events: {
        record: async (_app, event) => {
          this.events.push(event);
          const body = { apiVersion: "v1", kind: "Event", metadata: { generateName: `${this.deployment}.` }, involvedObject: { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", namespace: "default", name: this.deployment }, type: event.type, reason: event.reason, message: event.message, source: { component: "ticketplane" } };
          check(await this.api.post("/api/v1/namespaces/default/events", body), "record event");
        },
      },
    };
  }
}

