/**
 * StatusSink and EventSink on the object that defines an app.
 *
 * Status: a TicketedApp's status subresource, one merge patch on `/status`
 * with `observedGeneration` (the generation the status was computed for).
 * A write whose content equals the last one written for that generation is
 * skipped, so a reconcile that changes nothing writes nothing — and since a
 * status write changes no field the inventory reads (its informer strips
 * the status away), it cannot trigger a reconcile of its own.
 *
 * A k8sTicket-labelled Deployment has no status of ours to write: ticketplane
 * does not write one on the Deployment (an annotation there would move the
 * Deployment's resourceVersion — the one our own scale writes are checked
 * against — and add drift to an object people and GitOps tools own). Its
 * status is on the admin API; its Events go on the Deployment.
 *
 * Events: through the EventRecorder (series, rate limits, never blocks),
 * `regarding` the TicketedApp or the Deployment.
 */
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { sharedCounter } from "../common/metrics.js";
import type { AppKey } from "../config/app-spec.js";
import { TICKETED_APP_API_VERSION, TICKETED_APP_KIND } from "../config/ticketed-app.js";
import type { AppEvent, EventReason, EventSink, StatusSink } from "../reconcile/ports.js";
import type { AppStatus } from "../reconcile/status.js";
import type { ClusterApp, ObjectRef } from "./app-sources.js";
import type { EventObject, EventRecorder } from "./events.js";
import type { KubeInventory } from "./inventory.js";
import { kubeCall, type CallSettings } from "./kube-call.js";

const [GROUP = "", VERSION = ""] = TICKETED_APP_API_VERSION.split("/");

type Apps = Pick<KubeInventory, "app">;

function appOf(inventory: Apps, app: AppKey): ClusterApp {
  const found = inventory.app(app);
  if (found === undefined) throw new TicketplaneError(ERROR_CODES.NOT_FOUND, `app ${app} is not known to the inventory`, { app });
  return found;
}

export interface KubeStatusSinkOptions {
  readonly custom: CustomObjectsApi;
  readonly inventory: Apps;
  readonly call: CallSettings;
  readonly logger: Logger;
  readonly registry: Registry;
}

export class KubeStatusSink implements StatusSink {
  readonly #o: KubeStatusSinkOptions;
  /** What was last written, by app: `<uid>/<generation>` and the status JSON. */
  readonly #written = new Map<AppKey, string>();
  readonly #noStatusLogged = new Set<AppKey>();
  readonly #writes;

  constructor(options: KubeStatusSinkOptions) {
    this.#o = options;
    this.#writes = sharedCounter(options.registry, { name: "ticketplane_kube_status_writes_total", help: "App status writes, by outcome (written; unchanged: skipped, same content; no_status: a k8sTicket Deployment app, which has no status subresource of ours; gone: the TicketedApp was deleted)", labelNames: ["outcome"] });
  }

  async write(app: AppKey, status: AppStatus): Promise<void> {
    const { definedBy } = appOf(this.#o.inventory, app);
    if (definedBy.kind !== "TicketedApp") {
      this.#writes.inc({ outcome: "no_status" });
      if (!this.#noStatusLogged.has(app)) this.#o.logger.debug("app defined by a Deployment: its status is not written to the cluster (see the admin API)", { app });
      this.#noStatusLogged.add(app);
      return;
    }
    const body = { status: { ...status, ...(definedBy.generation === undefined ? {} : { observedGeneration: definedBy.generation }) } };
    const content = `${definedBy.uid ?? ""}/${JSON.stringify(body)}`;
    if (this.#written.get(app) === content) {
      this.#writes.inc({ outcome: "unchanged" });
      return;
    }
    try {
      await kubeCall(this.#o.call, { op: "write status", app, namespace: definedBy.namespace, name: definedBy.name }, (o) => this.#o.custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, plural: "ticketedapps", namespace: definedBy.namespace, name: definedBy.name, body }, o), setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    } catch (err) {
      this.#written.delete(app);
      // Deleted meanwhile: the inventory drops the app and the reconciler with it.
      if (err instanceof TicketplaneError && err.code === ERROR_CODES.NOT_FOUND) {
        this.#writes.inc({ outcome: "gone" });
        return;
      }
      throw err;
    }
    this.#written.set(app, content);
    this.#writes.inc({ outcome: "written" });
  }
}

/** The `action` of an Event, by reason (events.k8s.io/v1 requires one). */
const ACTIONS: Readonly<Record<EventReason, string>> = {
  ScaledUp: "Scale",
  ScaledDown: "Scale",
  ScaleInBlocked: "Scale",
  Draining: "Drain",
  ReplicasChangedExternally: "Observe",
  DeploymentMissing: "Observe",
  MetricUnavailable: "Measure",
  RoutedToResolver: "Route",
  RoutedToApp: "Route",
  VirtualServiceMissing: "Observe",
  VirtualServiceMalformed: "Observe",
};

export function regardingOf(definedBy: ObjectRef): EventObject {
  return {
    apiVersion: definedBy.kind === "TicketedApp" ? TICKETED_APP_API_VERSION : "apps/v1",
    kind: definedBy.kind === "TicketedApp" ? TICKETED_APP_KIND : "Deployment",
    name: definedBy.name,
    namespace: definedBy.namespace,
    ...(definedBy.uid === undefined ? {} : { uid: definedBy.uid }),
  };
}

export interface KubeEventSinkOptions {
  readonly inventory: Apps;
  readonly recorder: Pick<EventRecorder, "record">;
}

export class KubeEventSink implements EventSink {
  readonly #o: KubeEventSinkOptions;

  constructor(options: KubeEventSinkOptions) {
    this.#o = options;
  }

  /** Hands the Event to the recorder (which writes it in the background and never fails the caller). */
  async record(app: AppKey, event: AppEvent): Promise<void> {
    const { definedBy } = appOf(this.#o.inventory, app);
    this.#o.recorder.record({ regarding: regardingOf(definedBy), type: event.type, reason: event.reason, action: ACTIONS[event.reason], note: event.message });
    await Promise.resolve();
  }
}
