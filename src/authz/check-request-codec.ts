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
/** The longest name Check reads: a longer header name is skipped without comparing. */
const LONGEST_WANTED = Math.max(...WANTED.map((w) => w.bytes.length));

// The readers below loop over ProtoReader.next rather than pass a callback
// per message: this runs on every Check, and a closure per nested message
// (plus a Buffer view per header name) was most of the decoding cost.

/** Decodes a CheckRequest; throws on bytes that are not one. */
export function decodeCheckAttributes(bytes: Uint8Array): CheckAttributes {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  let attributes: CheckAttributes | undefined;
  while (r.next(buf.length)) {
    if (r.field === 1 && r.wire === WIRE_LEN) attributes = readAttributeContext(r, buf, r.fieldEnd);
    else r.skip();
  }
  return attributes ?? new CheckAttributes(undefined, undefined);
}

function readAttributeContext(r: Reader, buf: Buffer, end: number): CheckAttributes {
  let http: HttpAttributes | undefined;
  let source: string | undefined;
  while (r.next(end)) {
    if (r.wire !== WIRE_LEN) r.skip();
    else if (r.field === 1) source = readPeer(r, r.fieldEnd);
    else if (r.field === 4) http = readRequest(r, buf, r.fieldEnd);
    else r.skip();
  }
  return new CheckAttributes(http, source);
}

/** Peer.address.socket_address.address: undefined when a message on the way is absent. */
function readPeer(r: Reader, end: number): string | undefined {
  let address: string | undefined;
  while (r.next(end)) {
    if (r.field === 1 && r.wire === WIRE_LEN) address = readAddress(r, r.fieldEnd);
    else r.skip();
  }
  return address;
}

function readAddress(r: Reader, end: number): string | undefined {
  let address: string | undefined;
  while (r.next(end)) {
    if (r.field === 1 && r.wire === WIRE_LEN) address = readSocketAddress(r, r.fieldEnd);
    else r.skip();
  }
  return address;
}

/** SocketAddress.address ("" when absent: the socket address was there). */
function readSocketAddress(r: Reader, end: number): string {
  let address = "";
  while (r.next(end)) {
    if (r.field === 2 && r.wire === WIRE_LEN) address = r.string(r.fieldEnd);
    else r.skip();
  }
  return address;
}

function readRequest(r: Reader, buf: Buffer, end: number): HttpAttributes | undefined {
  let http: HttpAttributes | undefined;
  while (r.next(end)) {
    if (r.field === 2 && r.wire === WIRE_LEN) http = readHttp(r, buf, r.fieldEnd);
    else r.skip();
  }
  return http;
}

function readHttp(r: Reader, buf: Buffer, end: number): HttpAttributes {
  let id = "";
  let host = "";
  let path = "";
  const mapForm: Record<string, string> = {};
  // Made only when the gateway sends header_map (encode_raw_headers).
  let listForm: Record<string, string> | undefined;
  let listEntries = 0;
  while (r.next(end)) {
    const field = r.field;
    if (r.wire !== WIRE_LEN) r.skip();
    else if (field === 1) id = r.string(r.fieldEnd);
    else if (field === 4) path = r.string(r.fieldEnd);
    else if (field === 5) host = r.string(r.fieldEnd);
    else if (field === 3) readMapEntry(r, buf, r.fieldEnd, mapForm);
    else if (field === 13) {
      // header_map replaces an earlier one, as the generated decoder does.
      listForm = {};
      listEntries = readHeaderMap(r, buf, r.fieldEnd, listForm);
    } else r.skip();
  }
  return { id, host, path, headers: listForm !== undefined && listEntries > 0 ? listForm : mapForm };
}

/** One `headers` map entry (key = 1, value = 2): kept when Check reads it; a later entry of the same key wins. */
function readMapEntry(r: Reader, buf: Buffer, end: number, out: Record<string, string>): void {
  let name: string | undefined;
  let valueStart = -1;
  let valueEnd = -1;
  while (r.next(end)) {
    if (r.wire !== WIRE_LEN) r.skip();
    else if (r.field === 1) {
      name = wantedName(buf, r.pos, r.fieldEnd, false);
      r.pos = r.fieldEnd;
    } else if (r.field === 2) {
      valueStart = r.pos;
      valueEnd = r.fieldEnd;
      r.pos = r.fieldEnd;
    } else r.skip();
  }
  if (name !== undefined) out[name] = valueStart < 0 ? "" : r.slice(valueStart, valueEnd);
}

/** header_map (`encode_raw_headers`): every entry counted; those Check reads merged as toCheckInput merges them (cookies with "; ", others with ","). */
function readHeaderMap(r: Reader, buf: Buffer, end: number, out: Record<string, string>): number {
  let entries = 0;
  while (r.next(end)) {
    if (r.field !== 1 || r.wire !== WIRE_LEN) {
      r.skip();
      continue;
    }
    entries++;
    const entryEnd = r.fieldEnd;
    let name: string | undefined;
    let value = "";
    let raw = "";
    while (r.next(entryEnd)) {
      if (r.wire !== WIRE_LEN) r.skip();
      else if (r.field === 1) {
        name = wantedName(buf, r.pos, r.fieldEnd, true);
        r.pos = r.fieldEnd;
      } else if (r.field === 2) value = r.string(r.fieldEnd);
      else if (r.field === 3) raw = r.string(r.fieldEnd);
      else r.skip();
    }
    if (name === undefined) continue;
    const v = value.length > 0 ? value : raw;
    const prev = out[name];
    out[name] = prev === undefined ? v : prev + (name === "cookie" ? "; " : ",") + v;
  }
  return entries;
}

/** The header name Check reads that buf[start, end) spells (ASCII case folded when `fold`), or undefined. */
function wantedName(buf: Buffer, start: number, end: number, fold: boolean): string | undefined {
  const length = end - start;
  if (length > LONGEST_WANTED) return undefined;
  for (const w of WANTED) {
    if (w.bytes.length !== length) continue;
    let k = 0;
    for (; k < length; k++) {
      let b = buf[start + k] ?? 0;
      if (fold && b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b !== w.bytes[k]) break;
    }
    if (k === length) return w.name;
  }
  return undefined;
}
