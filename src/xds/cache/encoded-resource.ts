import type { BuiltResource } from "../resources/model.js";
import type { TypeUrl } from "../resources/type-urls.js";
import { contentVersion } from "./version.js";
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
  #any?: Uint8Array;
  #sotwEntry?: Buffer;
  #deltaEntry?: Buffer;
  #podSet?: ReadonlySet<string>;

  constructor(built: BuiltResource, version = contentVersion(built.encoded)) {
    this.typeUrl = built.typeUrl;
    this.name = built.name;
    this.bytes = built.encoded;
    this.pods = built.pods;
    this.version = version;
  }

  /** True when `built` has exactly this name, type, bytes and pods (so this object can be reused). */
  sameAs(built: BuiltResource): boolean {
    return (
      built.name === this.name &&
      built.typeUrl === this.typeUrl &&
      Buffer.from(built.encoded.buffer, built.encoded.byteOffset, built.encoded.byteLength).equals(this.bytes) &&
      built.pods.length === this.pods.length &&
      built.pods.every((p, i) => p === this.pods[i])
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

  get podSet(): ReadonlySet<string> {
    return (this.#podSet ??= new Set(this.pods));
  }
}
