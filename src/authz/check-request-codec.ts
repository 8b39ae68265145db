/**
 * CheckRequest bytes → what Check reads of them, without building the rest.
 * The generated decoder makes an object for every field and a string for
 * every header name and value (a dozen or more per browser request); Check
 * reads the request id, host, path, the source address and a handful of
 * headers. This decoder walks the same fields with the same rules (a
 * message field seen twice: the last one wins; a field with an unexpected
 * wire type is skipped) and makes strings only of what Check reads.
 * Malformed bytes throw (the service turns that into a 400 denial).
 *
 * Field numbers: envoy.service.auth.v3 CheckRequest.attributes = 1;
 * AttributeContext.source = 1, .request = 4; Peer.address = 1;
 * Address.socket_address = 1; SocketAddress.address = 2; Request.http = 2;
 * HttpRequest.id = 1, .headers = 3 (map), .path = 4, .host = 5,
 * .header_map = 13 (HeaderMap.headers = 1: HeaderValue key = 1, value = 2,
 * raw_value = 3).
 */
import { ProtoReader as Reader, WIRE_LEN } from "../common/proto-reader.js";

/** The request headers Check reads (see toCheckInput and decideCheck); names lower-case. */
export const CHECK_READS_HEADERS = [":path", ":authority", "host", "cookie", "accept", "x-forwarded-for"] as const;

/** The HTTP attributes Check reads, in the generated type's shape (so toCheckInput takes either). */
export interface HttpAttributes {
  readonly id: string;
  readonly host: string;
  readonly path: string;
  /** Only the headers Check reads; header_map's entries already merged into it, as toCheckInput merges them. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What Check reads of one CheckRequest, decoded by `decodeCheckAttributes`. */
export class CheckAttributes {
  constructor(
    readonly http: HttpAttributes | undefined,
    readonly sourceAddress: string | undefined,
  ) {}
}

const WANTED = CHECK_READS_HEADERS.map((name) => ({ name, bytes: Buffer.from(name, "latin1") }));

/** Decodes a CheckRequest; throws on bytes that are not one. */
export function decodeCheckAttributes(bytes: Uint8Array): CheckAttributes {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  let attributes: CheckAttributes = new CheckAttributes(undefined, undefined);
  r.fields(buf.length, (field, wire, end) => {
    if (field === 1 && wire === WIRE_LEN) attributes = readAttributeContext(r, end);
    else return false;
    return true;
  });
  return attributes;
}

function readAttributeContext(r: Reader, end: number): CheckAttributes {
  let http: HttpAttributes | undefined;
  let source: string | undefined;
  r.fields(end, (field, wire, fieldEnd) => {
    if (wire !== WIRE_LEN) return false;
    if (field === 1) source = readPeer(r, fieldEnd);
    else if (field === 4) http = readRequest(r, fieldEnd);
    else return false;
    return true;
  });
  return new CheckAttributes(http, source);
}

/** Peer.address.socket_address.address: undefined when a message on the way is absent. */
function readPeer(r: Reader, end: number): string | undefined {
  let address: string | undefined;
  r.fields(end, (field, wire, fieldEnd) => {
    if (field !== 1 || wire !== WIRE_LEN) return false;
    address = readAddress(r, fieldEnd);
    return true;
  });
  return address;
}

function readAddress(r: Reader, end: number): string | undefined {
  let address: string | undefined;
  r.fields(end, (field, wire, fieldEnd) => {
    if (field !== 1 || wire !== WIRE_LEN) return false;
    address = "";
    r.fields(fieldEnd, (f, w, e) => {
      if (f !== 2 || w !== WIRE_LEN) return false;
      address = r.string(e);
      return true;
    });
    return true;
  });
  return address;
}

function readRequest(r: Reader, end: number): HttpAttributes | undefined {
  let http: HttpAttributes | undefined;
  r.fields(end, (field, wire, fieldEnd) => {
    if (field === 2 && wire === WIRE_LEN) http = readHttp(r, fieldEnd);
    else return false;
    return true;
  });
  return http;
}

function readHttp(r: Reader, end: number): HttpAttributes {
  let id = "";
  let host = "";
  let path = "";
  const mapForm: Record<string, string> = {};
  let listForm: Record<string, string> = {};
  let listEntries = 0;
  r.fields(end, (field, wire, fieldEnd) => {
    if (wire !== WIRE_LEN) return false;
    if (field === 1) id = r.string(fieldEnd);
    else if (field === 4) path = r.string(fieldEnd);
    else if (field === 5) host = r.string(fieldEnd);
    else if (field === 3) readMapEntry(r, fieldEnd, mapForm);
    else if (field === 13) {
      // header_map replaces an earlier one, as the generated decoder does.
      listForm = {};
      listEntries = readHeaderMap(r, fieldEnd, listForm);
    } else return false;
    return true;
  });
  return { id, host, path, headers: listEntries > 0 ? listForm : mapForm };
}

/** One `headers` map entry (key = 1, value = 2): kept when Check reads it; a later entry of the same key wins. */
function readMapEntry(r: Reader, end: number, out: Record<string, string>): void {
  let name: string | undefined;
  let valueStart = -1;
  let valueEnd = -1;
  r.fields(end, (field, wire, fieldEnd) => {
    if (wire !== WIRE_LEN) return false;
    if (field === 1) name = wantedName(r, fieldEnd, false);
    else if (field === 2) {
      valueStart = r.pos;
      valueEnd = fieldEnd;
      r.pos = fieldEnd;
    } else return false;
    return true;
  });
  if (name !== undefined) out[name] = valueStart < 0 ? "" : r.slice(valueStart, valueEnd);
}

/** header_map (`encode_raw_headers`): every entry counted; those Check reads merged as toCheckInput merges them (cookies with "; ", others with ","). */
function readHeaderMap(r: Reader, end: number, out: Record<string, string>): number {
  let entries = 0;
  r.fields(end, (field, wire, fieldEnd) => {
    if (field !== 1 || wire !== WIRE_LEN) return false;
    entries++;
    let name: string | undefined;
    let value = "";
    let raw = "";
    r.fields(fieldEnd, (f, w, e) => {
      if (w !== WIRE_LEN) return false;
      if (f === 1) name = wantedName(r, e, true);
      else if (f === 2) value = r.string(e);
      else if (f === 3) raw = r.string(e);
      else return false;
      return true;
    });
    if (name === undefined) return true;
    const v = value.length > 0 ? value : raw;
    const prev = out[name];
    out[name] = prev === undefined ? v : prev + (name === "cookie" ? "; " : ",") + v;
    return true;
  });
  return entries;
}

/** The header name Check reads that bytes [pos, end) spell (ASCII case folded when `fold`), or undefined; moves past them. */
function wantedName(r: Reader, end: number, fold: boolean): string | undefined {
  const bytes = r.bytes(end);
  for (const w of WANTED) {
    if (w.bytes.length !== bytes.length) continue;
    let k = 0;
    for (; k < bytes.length; k++) {
      let b = bytes[k] ?? 0;
      if (fold && b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b !== w.bytes[k]) break;
    }
    if (k === bytes.length) return w.name;
  }
  return undefined;
}
