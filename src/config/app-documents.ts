/**
 * Kubernetes-shaped documents (TicketedApp, k8sTicket Deployment): detecting
 * the kind of a parsed document and reading it into an AppSpec.
 */
import type { AppKey, AppSpec, SpecError } from "./app-spec.js";
import { parseK8sTicketDeployment } from "./k8sticket.js";
import { isRecord, specError } from "./spec-errors.js";
import { TICKETED_APP_KIND, parseTicketedApp } from "./ticketed-app.js";

export type DocumentKind = "TicketedApp" | "Deployment" | "config" | "unknown";

/** TicketedApp and Deployment by `kind`; a mapping without `kind`/`apiVersion` is a config file. */
export function detectKind(document: unknown): DocumentKind {
  if (!isRecord(document)) return "unknown";
  if (document.kind === TICKETED_APP_KIND) return "TicketedApp";
  if (document.kind === "Deployment") return "Deployment";
  if (document.kind === undefined && document.apiVersion === undefined) return "config";
  return "unknown";
}

export type AppDocumentResult =
  | { readonly kind: "app"; readonly spec: AppSpec }
  | { readonly kind: "disabled"; readonly app?: AppKey }
  | { readonly kind: "skipped"; readonly reason: string }
  | { readonly kind: "invalid"; readonly errors: readonly SpecError[] };

/** Reads one TicketedApp or Deployment. Deployments without the k8sTicket label are `skipped`. */
export function readAppDocument(document: unknown): AppDocumentResult {
  const kind = detectKind(document);
  if (kind === "TicketedApp") {
    const r = parseTicketedApp(document);
    return r.ok ? { kind: "app", spec: r.value } : { kind: "invalid", errors: r.errors };
  }
  if (kind === "Deployment") {
    const r = parseK8sTicketDeployment(document);
    if (!r.ok) return { kind: "invalid", errors: r.errors };
    if (r.value !== null) return { kind: "app", spec: r.value };
    if (r.reason === "disabled") return { kind: "disabled", ...(r.app !== undefined ? { app: r.app } : {}) };
    return { kind: "skipped", reason: 'no k8sTicket label (k8sTicket: "true")' };
  }
  const found = isRecord(document) ? document.kind : document;
  return { kind: "invalid", errors: [specError("kind", found, 'must be "TicketedApp" or "Deployment"')] };
}

/** "TicketedApp default/shiny" — how errors name the object they are about. */
export function describeObject(document: unknown): string {
  if (!isRecord(document)) return "object";
  const meta = isRecord(document.metadata) ? document.metadata : {};
  const ns = typeof meta.namespace === "string" ? meta.namespace : "default";
  const name = typeof meta.name === "string" ? meta.name : "?";
  return `${typeof document.kind === "string" ? document.kind : "object"} ${ns}/${name}`;
}
