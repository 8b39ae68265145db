/**
 * State-of-the-world requests, decoded so that an unchanged resource_names
 * list costs no strings. A SotW client repeats its whole list of names on
 * every request of a type (an EDS ACK names every cluster), so decoding it
 * into strings and comparing them with the stream's set, per ACK and per
 * stream, was the largest part of a SotW change's server CPU. Here the list
 * is fingerprinted from its bytes (SHA-256 of the resource_names fields, in
 * order); the stream compares fingerprints and decodes the names only when
 * they differ from the last list it took.
 */
import { hash } from "node:crypto";
import { DiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { ProtoReader, WIRE_LEN } from "../../common/proto-reader.js";

const RESOURCE_NAMES = 3;
const STAR = 0x2a;

/** What a stream reads of a request's resource_names without decoding them. */
export interface RequestNames {
  readonly count: number;
  /** One of the names is "*". */
  readonly star: boolean;
  /** Equal for byte-identical lists (and only for them); undefined when the list came decoded (not from the wire). */
  readonly fingerprint: string | undefined;
  /** The names (decoded on first call). */
  list(): readonly string[];
}

const FINGERPRINTS = new WeakMap<DiscoveryRequest, RequestNames>();

/** The names of `request`: fingerprinted when `decodeSotwRequest` made it, else read from its decoded list. */
export function requestNames(request: DiscoveryRequest): RequestNames {
  const known = FINGERPRINTS.get(request);
  if (known) return known;
  const list = request.resourceNames;
  return { count: list.length, star: list.includes("*"), fingerprint: undefined, list: () => list };
}

/**
 * Decodes a DiscoveryRequest; its `resourceNames` are decoded when first
 * read. Throws on bytes that are not one.
 */
export function decodeSotwRequest(bytes: Uint8Array): DiscoveryRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new ProtoReader(buf);
  // Byte ranges of the resource_names fields (tag, length, name), merged where adjacent: a client writes them in one run.
  const ranges: [number, number][] = [];
  let count = 0;
  let star = false;
  r.fields(buf.length, (field, wire, end, start) => {
    if (field !== RESOURCE_NAMES || wire !== WIRE_LEN) return false;
    count++;
    if (end - r.pos === 1 && buf[r.pos] === STAR) star = true;
    const last = ranges.at(-1);
    if (last && last[1] === start) last[1] = end;
    else ranges.push([start, end]);
    return true;
  });
  if (count === 0) return DiscoveryRequest.decode(buf);
  const request = DiscoveryRequest.decode(without(buf, ranges));
  const nameBytes = ranges.length === 1 && ranges[0] ? buf.subarray(ranges[0][0], ranges[0][1]) : Buffer.concat(ranges.map(([s, e]) => buf.subarray(s, e)));
  let decoded: string[] | undefined;
  const list = (): string[] => (decoded ??= DiscoveryRequest.decode(nameBytes).resourceNames);
  Object.defineProperty(request, "resourceNames", { get: list, enumerable: true, configurable: true });
  FINGERPRINTS.set(request, { count, star, fingerprint: hash("sha256", nameBytes, "base64"), list });
  return request;
}

/** `buf` without the byte ranges (in order, not overlapping). */
function without(buf: Buffer, ranges: readonly (readonly [number, number])[]): Buffer {
  const kept: Buffer[] = [];
  let from = 0;
  for (const [s, e] of ranges) {
    if (s > from) kept.push(buf.subarray(from, s));
    from = e;
  }
  if (from < buf.length) kept.push(buf.subarray(from));
  return kept.length === 1 ? (kept[0] ?? buf) : Buffer.concat(kept);
}
