import { appClusterPrefixOfPod } from "../../routing/index.js";
import type { BuiltResource } from "../resources/model.js";
import type { TypeUrl } from "../resources/type-urls.js";
import { contentVersion, entryDigest } from "./version.js";
import { encodeAny, encodeDeltaResource, resourcesFieldEntry } from "./wire.js";

/**
 * One version of one resource, with its wire forms made once and shared by
 * every stream and every later snapshot that holds the same bytes.
 * Immutable; the lazily built fields are pure functions of the bytes.
 */
export class EncodedResource {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  /** Content hash of `bytes`. */
  readonly version: string;
  /** The bare message (not an Any). */
  readonly bytes: Uint8Array;
  /** Pod keys this resource makes routable (BuiltResource.pods). */
  readonly pods: readonly string[];
  /** App cluster prefixes this resource routes to (BuiltResource.apps). */
  readonly apps: readonly string[];
  /** What it was made from: a builder that returns the same object again (an unchanged pod) is recognised without comparing bytes. */
  readonly #source: BuiltResource;
  #any?: Uint8Array;
  #sotwEntry?: Buffer;
  #deltaEntry?: Buffer;
  #podSet?: ReadonlySet<string>;
  #appSet?: ReadonlySet<string>;
  #digest?: Uint32Array;

  constructor(built: BuiltResource, version = contentVersion(built.encoded)) {
    this.#source = built;
    this.typeUrl = built.typeUrl;
    this.name = built.name;
    this.bytes = built.encoded;
    this.pods = built.pods;
    this.apps = built.apps ?? NO_APPS;
    this.version = version;
  }

  /** True when `built` has exactly this name, type, bytes and pods (so this object can be reused). */
  sameAs(built: BuiltResource): boolean {
    if (built === this.#source) return true;
    return (
      built.name === this.name &&
      built.typeUrl === this.typeUrl &&
      Buffer.from(built.encoded.buffer, built.encoded.byteOffset, built.encoded.byteLength).equals(this.bytes) &&
      built.pods.length === this.pods.length &&
      built.pods.every((p, i) => p === this.pods[i]) &&
      sameList(built.apps ?? NO_APPS, this.apps)
    );
  }

  /** The `google.protobuf.Any` encoding. */
  get any(): Uint8Array {
    return (this.#any ??= encodeAny(this.typeUrl, this.bytes));
  }

  /** `resources` field entry of a state-of-the-world DiscoveryResponse (an Any). */
  get sotwEntry(): Buffer {
    return (this.#sotwEntry ??= resourcesFieldEntry(this.any));
  }

  /** `resources` field entry of a DeltaDiscoveryResponse (a Resource with name and version). */
  get deltaEntry(): Buffer {
    return (this.#deltaEntry ??= resourcesFieldEntry(encodeDeltaResource(this.name, this.version, this.any)));
  }

  /** This `name=version`'s share of a type's set version (SetDigest), computed once. */
  get digest(): Uint32Array {
    return (this.#digest ??= entryDigest(this));
  }

  /**
   * True when the pods this resource carries are exactly its own name or
   * none, and it routes no app: the common case (a pod's Cluster and
   * ClusterLoadAssignment, a shared cluster, a listener), which a snapshot
   * answers by name without an index.
   */
  get regular(): boolean {
    return this.apps.length === 0 && (this.pods.length === 0 || (this.pods.length === 1 && this.pods[0] === this.name));
  }

  get podSet(): ReadonlySet<string> {
    return (this.#podSet ??= new Set(this.pods));
  }

  /**
   * Whether a gateway holding this version has what the pod needs of this
   * resource: the pod itself (its Cluster, its ClusterLoadAssignment) or a
   * route to its app (the RouteConfiguration).
   */
  carries(podKey: string): boolean {
    if (this.podSet.has(podKey)) return true;
    if (this.apps.length === 0) return false;
    const app = appClusterPrefixOfPod(podKey);
    return app !== undefined && (this.#appSet ??= new Set(this.apps)).has(app);
  }
}

const NO_APPS: readonly string[] = [];

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
