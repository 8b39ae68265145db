/**
 * Discovery documents, derived from the kinds table: `/version`, the legacy
 * endpoints (`/api`, `/apis`, `/api/v1`, `/apis/<group>[/<version>]`) and
 * aggregated discovery (`apidiscovery.k8s.io` v2 and v2beta1, which kubectl
 * asks for first), in the shapes the real API server answers.
 */
import { apiVersionOf, groupVersions, VERBS } from "./kinds.ts";
import type { KindSpec } from "./kinds.ts";

export interface ServerVersion {
  readonly major: string;
  readonly minor: string;
  readonly gitVersion: string;
}

export function versionInfo(v: ServerVersion): Record<string, string> {
  return { ...v, gitCommit: "0000000000000000000000000000000000000000", gitTreeState: "clean", buildDate: "2025-01-01T00:00:00Z", goVersion: "go1.23.0", compiler: "gc", platform: "linux/amd64" };
}

const SUBRESOURCE_VERBS = ["get", "patch", "update"];

function subresources(k: KindSpec): { name: string; group: string; version: string; kind: string }[] {
  const out: { name: string; group: string; version: string; kind: string }[] = [];
  if (k.scale !== undefined) out.push({ name: "scale", group: "autoscaling", version: "v1", kind: "Scale" });
  if (k.status === true) out.push({ name: "status", group: k.group, version: k.version, kind: k.kind });
  return out;
}

function optional(k: KindSpec): { shortNames?: readonly string[]; categories?: readonly string[] } {
  return { ...(k.shortNames === undefined ? {} : { shortNames: k.shortNames }), ...(k.categories === undefined ? {} : { categories: k.categories }) };
}

/** `/api/v1`, `/apis/<group>/<version>`: an APIResourceList, subresources as `<plural>/<sub>` entries. */
export function resourceList(kinds: readonly KindSpec[], group: string, version: string): Record<string, unknown> | undefined {
  const gv = groupVersions(kinds).find((g) => g.group === group && g.version === version);
  if (gv === undefined) return undefined;
  const resources = gv.kinds.flatMap((k) => [
    { name: k.plural, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: VERBS, ...optional(k) },
    ...subresources(k).map((s) => ({ name: `${k.plural}/${s.name}`, singularName: "", namespaced: k.namespaced, ...(s.group === k.group && s.version === k.version ? {} : { group: s.group, version: s.version }), kind: s.kind, verbs: SUBRESOURCE_VERBS })),
  ]);
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: apiVersionOf(gv), resources };
}

function groupEntry(name: string, versions: readonly string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

function versionsByGroup(kinds: readonly KindSpec[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const gv of groupVersions(kinds)) out.set(gv.group, [...(out.get(gv.group) ?? []), gv.version]);
  return out;
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

export function apiGroupList(kinds: readonly KindSpec[]): Record<string, unknown> {
  const groups = [...versionsByGroup(kinds)].filter(([g]) => g !== "").map(([g, versions]) => groupEntry(g, versions));
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

export function apiGroup(kinds: readonly KindSpec[], group: string): Record<string, unknown> | undefined {
  const versions = versionsByGroup(kinds).get(group);
  if (group === "" || versions === undefined) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...groupEntry(group, versions) };
}

/** The aggregated discovery media types we answer, most preferred first. */
export const AGGREGATED = ["v2", "v2beta1"].map((v) => ({ version: v, mediaType: `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList` }));

/** Which aggregated discovery version the Accept header asks for (the first one it names that we serve), if any. */
export function aggregatedVersionAccepted(accept: string | undefined): (typeof AGGREGATED)[number] | undefined {
  for (const part of (accept ?? "").split(",")) {
    const params = new Map(
      part
        .split(";")
        .slice(1)
        .map((p) => p.trim().split("=") as [string, string]),
    );
    if (params.get("g") !== "apidiscovery.k8s.io" || params.get("as") !== "APIGroupDiscoveryList") continue;
    const found = AGGREGATED.find((a) => a.version === params.get("v"));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `/api` (core: true) or `/apis` as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(kinds: readonly KindSpec[], core: boolean, version: string): Record<string, unknown> {
  const byGroup = new Map<string, Record<string, unknown>[]>();
  for (const gv of groupVersions(kinds)) {
    if ((gv.group === "") !== core) continue;
    const resources = gv.kinds.map((k) => ({
      resource: k.plural,
      responseKind: { group: k.group, version: k.version, kind: k.kind },
      scope: k.namespaced ? "Namespaced" : "Cluster",
      singularResource: k.singular,
      verbs: VERBS,
      ...optional(k),
      ...(subresources(k).length === 0 ? {} : { subresources: subresources(k).map((s) => ({ subresource: s.name, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: SUBRESOURCE_VERBS })) }),
    }));
    byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), { version: gv.version, resources, freshness: "Current" }]);
  }
  const items = [...byGroup].map(([group, versions]) => ({ metadata: group === "" ? { creationTimestamp: null } : { name: group, creationTimestamp: null }, versions }));
  return { kind: "APIGroupDiscoveryList", apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
