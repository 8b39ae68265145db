/**
 * The tolerant form, for Kubernetes sources: a list of TicketedApp and
 * Deployment objects (as informers hold them) → the apps that are valid, the
 * apps k8sTicket has disabled, and the errors of the rest. A bad object never
 * takes down the valid ones. When two objects claim the same app name or the
 * same host + pathPrefix, the first in input order keeps it; callers that
 * want a stable winner pass objects sorted (e.g. by creationTimestamp).
 */
import type { AppKey, AppSpec, SpecError } from "./app-spec.js";
import { describeObject, readAppDocument } from "./app-documents.js";
import type { PlacedApp } from "./cross-checks.js";
import { findClashes } from "./cross-checks.js";

/** A SpecError about one object, named as "TicketedApp default/shiny" (kind namespace/name). */
export interface ObjectSpecError extends SpecError {
  readonly object: string;
}

export interface AppSet {
  readonly apps: readonly AppSpec[];
  /** k8sTicket Deployments whose label is not "true": no new users, existing tickets served. */
  readonly disabled: readonly AppKey[];
  readonly errors: readonly ObjectSpecError[];
}

export function parseAppObjects(objects: readonly unknown[]): AppSet {
  const placed: PlacedApp[] = [];
  const objectNames: string[] = [];
  const disabled: AppKey[] = [];
  const errors: ObjectSpecError[] = [];
  for (const object of objects) {
    const name = describeObject(object);
    const result = readAppDocument(object);
    if (result.kind === "invalid") errors.push(...result.errors.map((e) => ({ ...e, object: name })));
    else if (result.kind === "disabled") {
      if (result.app !== undefined) disabled.push(result.app);
    } else if (result.kind === "app") {
      const k8s = result.spec.source === "k8sTicket";
      const namePath = k8s ? 'metadata.annotations["ipb-halle.de/k8sticket.deployment.app"]' : "metadata.name";
      placed.push({ spec: result.spec, path: name, namePath, prefixPath: k8s ? namePath : "spec.pathPrefix" });
      objectNames.push(name);
    }
  }
  const rejected = new Set<number>();
  for (const clash of findClashes(placed)) {
    rejected.add(clash.index);
    errors.push({ ...clash.error, object: objectNames[clash.index] ?? "object" });
  }
  return { apps: placed.filter((_, i) => !rejected.has(i)).map((p) => p.spec), disabled, errors };
}
