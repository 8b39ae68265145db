import { ERROR_CODES, TicketplaneError } from "../../common/errors.js";
import type { BuiltResource } from "../resources/model.js";
import { PUSH_ORDER, TYPE_URLS, type TypeUrl } from "../resources/type-urls.js";
import { EncodedResource } from "./encoded-resource.js";
import { referencesOf } from "./references.js";
import { setVersion } from "./version.js";

export type Consistency = { ok: true } | { ok: false; errors: string[] };

/** pod key → type → names of the resources of that type that carry the pod (EncodedResource.carries). */
export type PodIndex = ReadonlyMap<string, ReadonlyMap<TypeUrl, readonly string[]>>;

const EMPTY: ReadonlyMap<string, EncodedResource> = new Map();

/**
 * Everything one node group is served: resources by type URL and name, each
 * with a content-hash version. Immutable once built; safe to share between
 * streams. Derived views (type versions, pod index) are computed on first use.
 */
export class Snapshot {
  readonly #byType: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>;
  readonly #typeVersions = new Map<TypeUrl, string>();
  readonly #lists = new Map<TypeUrl, readonly EncodedResource[]>();
  #podIndex?: PodIndex;

  private constructor(byType: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>) {
    this.#byType = byType;
  }

  /**
   * Builds a snapshot. Resources whose bytes equal those in `previous` reuse
   * its EncodedResource, so their hash and wire forms are not recomputed.
   * Throws (a builder bug) when two resources share a type and name.
   */
  static build(resources: Iterable<BuiltResource>, previous?: Snapshot): Snapshot {
    const byType = new Map<TypeUrl, Map<string, EncodedResource>>();
    for (const built of resources) {
      let names = byType.get(built.typeUrl);
      if (!names) byType.set(built.typeUrl, (names = new Map<string, EncodedResource>()));
      if (names.has(built.name)) {
        throw new TicketplaneError(ERROR_CODES.INVALID_ARGUMENT, "duplicate resource in snapshot", { type: built.typeUrl, name: built.name });
      }
      const old = previous?.get(built.typeUrl, built.name);
      names.set(built.name, old?.sameAs(built) ? old : new EncodedResource(built));
    }
    return new Snapshot(byType);
  }

  /** A snapshot from already encoded resources (used to derive intermediate snapshots). */
  static fromEncoded(byType: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>): Snapshot {
    return new Snapshot(byType);
  }

  static empty(): Snapshot {
    return new Snapshot(new Map());
  }

  resources(typeUrl: TypeUrl): ReadonlyMap<string, EncodedResource> {
    return this.#byType.get(typeUrl) ?? EMPTY;
  }

  /**
   * Every resource of a type as one array, the same array on every call: a
   * response that carries the whole type shares it, and so its encoding.
   */
  list(typeUrl: TypeUrl): readonly EncodedResource[] {
    let l = this.#lists.get(typeUrl);
    if (l === undefined) {
      l = [...this.resources(typeUrl).values()];
      this.#lists.set(typeUrl, l);
    }
    return l;
  }

  get(typeUrl: TypeUrl, name: string): EncodedResource | undefined {
    return this.#byType.get(typeUrl)?.get(name);
  }

  /** Version of every resource of a type together (the SotW version_info of a wildcard response). */
  typeVersion(typeUrl: TypeUrl): string {
    let v = this.#typeVersions.get(typeUrl);
    if (v === undefined) {
      v = setVersion(this.resources(typeUrl).values());
      this.#typeVersions.set(typeUrl, v);
    }
    return v;
  }

  /**
   * Which resources carry each pod: those that name it (BuiltResource.pods),
   * and those that route to its app (BuiltResource.apps). The pods are those
   * some resource names; a route to an app without pods carries none.
   */
  podIndex(): PodIndex {
    if (this.#podIndex) return this.#podIndex;
    const index = new Map<string, Map<TypeUrl, string[]>>();
    const add = (pod: string, typeUrl: TypeUrl, name: string): void => {
      let types = index.get(pod);
      if (!types) index.set(pod, (types = new Map<TypeUrl, string[]>()));
      let names = types.get(typeUrl);
      if (!names) types.set(typeUrl, (names = []));
      names.push(name);
    };
    const routing: EncodedResource[] = [];
    for (const typeUrl of PUSH_ORDER) {
      for (const r of this.resources(typeUrl).values()) {
        for (const pod of r.pods) add(pod, typeUrl, r.name);
        if (r.apps.length > 0) routing.push(r);
      }
    }
    if (routing.length > 0) {
      for (const pod of [...index.keys()]) {
        for (const r of routing) if (!r.podSet.has(pod) && r.carries(pod)) add(pod, r.typeUrl, r.name);
      }
    }
    return (this.#podIndex = index);
  }

  /**
   * Every ClusterLoadAssignment an EDS cluster names exists, and every
   * RouteConfiguration a listener names exists (go-control-plane's
   * Consistent). Returns every problem found, never throws.
   */
  consistent(): Consistency {
    const errors: string[] = [];
    const check = (from: TypeUrl, to: TypeUrl, what: string): void => {
      for (const r of this.resources(from).values()) {
        const refs = referencesOf(r);
        if (!refs.ok) {
          errors.push(refs.error);
          continue;
        }
        for (const name of refs.names) if (!this.get(to, name)) errors.push(`${r.name}: names ${what} "${name}", which the snapshot lacks`);
      }
    };
    check(TYPE_URLS.cluster, TYPE_URLS.endpoints, "ClusterLoadAssignment");
    check(TYPE_URLS.listener, TYPE_URLS.routes, "RouteConfiguration");
    return errors.length === 0 ? { ok: true } : { ok: false, errors };
  }
}
