/**
 * The TicketedApp custom resource (`ticketplane.dev/v1alpha1`, namespaced) →
 * AppSpec with source "TicketedApp". Name and namespace come from metadata;
 * every other field from `spec`, in the shape readAppFields documents.
 */
import type { AppSpec, ParseResult } from "./app-spec.js";
import { APP_FIELDS, NOT_HERE, readAppFields } from "./app-fields.js";
import { FieldReader, pathUnder } from "./field-reader.js";
import { ErrorSink, isRecord, specError, typeName } from "./spec-errors.js";

export const TICKETED_APP_API_VERSION = "ticketplane.dev/v1alpha1";
export const TICKETED_APP_KIND = "TicketedApp";
/** Fields of a TicketedApp's `spec` (name and namespace live in metadata; pods only in config files). */
export const TICKETED_APP_SPEC_FIELDS: readonly string[] = APP_FIELDS.filter((f) => f !== "name" && f !== "namespace" && f !== "pods");
const TOP_LEVEL = ["apiVersion", "kind", "metadata", "spec", "status"];

export function parseTicketedApp(object: unknown): ParseResult<AppSpec> {
  const sink = new ErrorSink();
  if (!isRecord(object)) return { ok: false, errors: [specError("", object, `a TicketedApp must be a mapping, not ${typeName(object)}`)] };
  if (object.apiVersion !== TICKETED_APP_API_VERSION) sink.add("apiVersion", object.apiVersion, `must be "${TICKETED_APP_API_VERSION}"`);
  if (object.kind !== TICKETED_APP_KIND) sink.add("kind", object.kind, `must be "${TICKETED_APP_KIND}"`);
  const top = new FieldReader(pathUnder(""), false, sink);
  top.checkUnknown(object, "", TOP_LEVEL);
  const metadata = isRecord(object.metadata) ? object.metadata : undefined;
  if (metadata === undefined) sink.add("metadata", object.metadata, "must be a mapping with name (and namespace)");
  const spec = object.spec ?? {};
  if (!isRecord(spec)) {
    sink.add("spec", spec, `must be a mapping, not ${typeName(spec)}`);
    return { ok: false, errors: sink.errors };
  }
  const reader = new FieldReader((field) => {
    if (field === "name" || field === "namespace") return `metadata.${field}`;
    return pathUnder("spec")(field);
  }, false, sink);
  reader.checkUnknown(spec, "", TICKETED_APP_SPEC_FIELDS, NOT_HERE);
  const fields = Object.fromEntries(Object.entries(spec).filter(([key]) => TICKETED_APP_SPEC_FIELDS.includes(key)));
  return readAppFields({ ...fields, name: metadata?.name, namespace: metadata?.namespace }, reader, {
    source: "TicketedApp",
    allowed: APP_FIELDS,
    checkUnknown: false,
  });
}
