import { createHash } from "node:crypto";

/**
 * A short content hash: the version of one resource (its encoded bytes).
 * Deterministic, so every replica and every restart names the same content
 * with the same version.
 */
export function contentVersion(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("base64url").slice(0, 16);
}

/** What a set version is made of: a resource's name and version. */
export interface VersionedEntry {
  readonly name: string;
  readonly version: string;
  /** entryDigest of this entry, when the entry keeps it (EncodedResource does). */
  readonly digest?: Uint32Array;
}

const LANES = 4;

/** 128 bits of sha256(`name=version`), as four 32-bit lanes. */
export function entryDigest(entry: VersionedEntry): Uint32Array {
  const h = createHash("sha256").update(`${entry.name}=${entry.version}`).digest();
  return new Uint32Array([h.readUInt32BE(0), h.readUInt32BE(4), h.readUInt32BE(8), h.readUInt32BE(12)]);
}

/**
 * The version of a set of resources as a multiset hash: the lane-wise sum
 * (mod 2^32) of each entry's digest, and the count. It depends only on the
 * set of `name=version` pairs, never on order or history, so every replica
 * names the same content with the same version; and it is updated per
 * changed resource (`add`, `remove`) instead of rehashing the whole set.
 * Mutable; Snapshot builds one and never changes it once built.
 */
export class SetDigest {
  readonly #sum = new Uint32Array(LANES);
  #count = 0;
  #version: string | undefined;

  static of(entries: Iterable<VersionedEntry>): SetDigest {
    const d = new SetDigest();
    for (const e of entries) d.add(e.digest ?? entryDigest(e));
    return d;
  }

  copy(): SetDigest {
    const d = new SetDigest();
    d.#sum.set(this.#sum);
    d.#count = this.#count;
    return d;
  }

  add(digest: Uint32Array): void {
    for (let i = 0; i < LANES; i++) this.#sum[i] = ((this.#sum[i] ?? 0) + (digest[i] ?? 0)) >>> 0;
    this.#count++;
    this.#version = undefined;
  }

  remove(digest: Uint32Array): void {
    for (let i = 0; i < LANES; i++) this.#sum[i] = ((this.#sum[i] ?? 0) - (digest[i] ?? 0)) >>> 0;
    this.#count--;
    this.#version = undefined;
  }

  /** The sum and count, hashed to the length of a resource's version (it goes on the wire with every response). */
  get version(): string {
    if (this.#version === undefined) {
      const bytes = Buffer.alloc(4 * LANES + 4);
      this.#sum.forEach((lane, i) => bytes.writeUInt32BE(lane, 4 * i));
      bytes.writeUInt32BE(this.#count >>> 0, 4 * LANES);
      this.#version = contentVersion(bytes);
    }
    return this.#version;
  }
}

/** The version of a set of resources (SetDigest): the same for the same `name=version` pairs, in any order. */
export function setVersion(entries: Iterable<VersionedEntry>): string {
  return SetDigest.of(entries).version;
}
