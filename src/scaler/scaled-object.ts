/**
 * Which app a KEDA ScaledObject asks about. Pure.
 *
 * KEDA sends the ScaledObject's name and namespace and its trigger's
 * metadata (every key of `triggers[].metadata`, `scalerAddress` included).
 * The app is named by the metadata key `app`:
 *   - `app: "team-a/notebook"`  the app `team-a/notebook`;
 *   - `app: "notebook"`         the app `notebook` in the ScaledObject's namespace;
 *   - no `app` key              the app named like the ScaledObject, in its namespace.
 * Other metadata keys are KEDA's or the operator's, and are ignored.
 */
import { appKey, type AppKey } from "../config/app-spec.js";
import { checkDnsLabel } from "../config/names.js";

/** The metadata key naming the app. */
export const APP_METADATA_KEY = "app";

/** What KEDA sends to identify a ScaledObject (the generated ScaledObjectRef's shape, possibly absent fields). */
export interface ScaledObjectRefInput {
  readonly name?: string;
  readonly namespace?: string;
  readonly scalerMetadata?: Readonly<Record<string, string>>;
}

export type AppRef = { readonly ok: true; readonly app: AppKey } | { readonly ok: false; readonly field: string; readonly value: string; readonly rule: string };

/** The app a ScaledObjectRef names, or the field that is wrong, its value and the rule it broke. */
export function resolveApp(ref: ScaledObjectRefInput | undefined): AppRef {
  const namespace = ref?.namespace ?? "";
  const given = ref?.scalerMetadata?.[APP_METADATA_KEY];
  if (given === undefined) {
    const name = ref?.name ?? "";
    return checked(namespace, "scaledObjectRef.namespace", name, "scaledObjectRef.name (no scalerMetadata.app, so the app is named like the ScaledObject)");
  }
  const field = `scalerMetadata.${APP_METADATA_KEY}`;
  const parts = given.split("/");
  if (parts.length === 2) return checked(parts[0] ?? "", field, parts[1] ?? "", field, given);
  if (parts.length === 1) return checked(namespace, "scaledObjectRef.namespace (scalerMetadata.app names no namespace)", given, field);
  return { ok: false, field, value: given, rule: 'must be "namespace/name" or "name"' };
}

function checked(namespace: string, namespaceField: string, name: string, nameField: string, whole?: string): AppRef {
  const nsRule = checkDnsLabel(namespace);
  if (nsRule !== undefined) return { ok: false, field: namespaceField, value: whole ?? namespace, rule: `the namespace ${nsRule}` };
  const nameRule = checkDnsLabel(name);
  if (nameRule !== undefined) return { ok: false, field: nameField, value: whole ?? name, rule: `the app name ${nameRule}` };
  return { ok: true, app: appKey(namespace, name) };
}
