/**
 * CheckResponse → bytes for the wire, written in one pass into one buffer
 * of the exact size. The generated encoder forks a writer per nested
 * message and joins chunk lists; on the Check path that cost more than the
 * whole decision. This encoder covers the fields check-response.ts sets
 * (status code and message, the denied response, the OK response's headers,
 * headers to remove and response headers to add) and writes exactly the
 * bytes the generated encoder writes (same field order, defaults omitted);
 * a response using any other field goes through the generated encoder.
 */
import type { HeaderValueOption } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { CheckResponse, type DeniedHttpResponse, type OkHttpResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import type { Status } from "@envoyproxy/protos/google/rpc/status";

// Field tags (field number << 3 | wire type).
const CHECK_STATUS = 0x0a;
const CHECK_DENIED = 0x12;
const CHECK_OK = 0x1a;
const STATUS_CODE = 0x08;
const STATUS_MESSAGE = 0x12;
const DENIED_STATUS = 0x0a;
const DENIED_HEADERS = 0x12;
const DENIED_BODY = 0x1a;
const HTTP_STATUS_CODE = 0x08;
const OK_HEADERS = 0x12;
const OK_HEADERS_TO_REMOVE = 0x2a;
const OK_RESPONSE_HEADERS = 0x32;
const OPTION_HEADER = 0x0a;
const OPTION_APPEND = 0x12;
const OPTION_APPEND_ACTION = 0x18;
const OPTION_KEEP_EMPTY = 0x20;
const HEADER_KEY = 0x0a;
const HEADER_VALUE = 0x12;
const HEADER_RAW = 0x1a;
const BOOL_VALUE = 0x08;

/** The wire bytes of `response` (the same bytes `CheckResponse.encode` writes). */
export function encodeCheckResponse(response: CheckResponse): Buffer {
  if (!covered(response)) return Buffer.from(CheckResponse.encode(response).finish());
  const w = new Writer(responseSize(response));
  if (response.status !== undefined) {
    w.tag(CHECK_STATUS, statusSize(response.status));
    w.int(STATUS_CODE, response.status.code);
    w.str(STATUS_MESSAGE, response.status.message);
  }
  if (response.deniedResponse !== undefined) writeDenied(w, response.deniedResponse);
  if (response.okResponse !== undefined) writeOk(w, response.okResponse);
  return w.done();
}

/** True when every field set in `r` is one this encoder writes. */
function covered(r: CheckResponse): boolean {
  if (r.dynamicMetadata !== undefined) return false;
  if (r.status !== undefined && (r.status.details.length > 0 || r.status.code < 0)) return false;
  const denied = r.deniedResponse;
  if (denied !== undefined && ((denied.status?.code ?? 0) < 0 || !denied.headers.every(coveredOption))) return false;
  const ok = r.okResponse;
  if (ok === undefined) return true;
  return ok.dynamicMetadata === undefined && ok.queryParametersToSet.length === 0 && ok.queryParametersToRemove.length === 0 && ok.headers.every(coveredOption) && ok.responseHeadersToAdd.every(coveredOption);
}

function coveredOption(o: HeaderValueOption): boolean {
  return (o.appendAction as number) >= 0;
}

function writeDenied(w: Writer, d: DeniedHttpResponse): void {
  w.tag(CHECK_DENIED, deniedSize(d));
  if (d.status !== undefined) {
    w.tag(DENIED_STATUS, intSize(d.status.code));
    w.int(HTTP_STATUS_CODE, d.status.code);
  }
  for (const o of d.headers) writeOption(w, DENIED_HEADERS, o);
  w.str(DENIED_BODY, d.body);
}

function writeOk(w: Writer, ok: OkHttpResponse): void {
  w.tag(CHECK_OK, okSize(ok));
  for (const o of ok.headers) writeOption(w, OK_HEADERS, o);
  for (const name of ok.headersToRemove) w.strAlways(OK_HEADERS_TO_REMOVE, name);
  for (const o of ok.responseHeadersToAdd) writeOption(w, OK_RESPONSE_HEADERS, o);
}

function writeOption(w: Writer, tag: number, o: HeaderValueOption): void {
  w.tag(tag, optionSize(o));
  if (o.header !== undefined) {
    w.tag(OPTION_HEADER, headerSize(o));
    w.str(HEADER_KEY, o.header.key);
    w.str(HEADER_VALUE, o.header.value);
    if (o.header.rawValue.length > 0) w.bytes(HEADER_RAW, o.header.rawValue);
  }
  if (o.append !== undefined) {
    w.tag(OPTION_APPEND, o.append ? 2 : 0);
    if (o.append) w.int(BOOL_VALUE, 1);
  }
  w.int(OPTION_APPEND_ACTION, o.appendAction);
  if (o.keepEmptyValue) w.int(OPTION_KEEP_EMPTY, 1);
}

// ── sizes ────────────────────────────────────────────────────────────────

function responseSize(r: CheckResponse): number {
  let n = 0;
  if (r.status !== undefined) n += nested(statusSize(r.status));
  if (r.deniedResponse !== undefined) n += nested(deniedSize(r.deniedResponse));
  if (r.okResponse !== undefined) n += nested(okSize(r.okResponse));
  return n;
}

function statusSize(s: Status): number {
  return intSize(s.code) + strSize(s.message);
}

function deniedSize(d: DeniedHttpResponse): number {
  let n = d.status === undefined ? 0 : nested(intSize(d.status.code));
  for (const o of d.headers) n += nested(optionSize(o));
  return n + strSize(d.body);
}

function okSize(ok: OkHttpResponse): number {
  let n = 0;
  for (const o of ok.headers) n += nested(optionSize(o));
  for (const name of ok.headersToRemove) n += nested(utf8Length(name));
  for (const o of ok.responseHeadersToAdd) n += nested(optionSize(o));
  return n;
}

function optionSize(o: HeaderValueOption): number {
  let n = o.header === undefined ? 0 : nested(headerSize(o));
  if (o.append !== undefined) n += o.append ? 4 : 2;
  n += intSize(o.appendAction);
  if (o.keepEmptyValue) n += 2;
  return n;
}

function headerSize(o: HeaderValueOption): number {
  const h = o.header;
  if (h === undefined) return 0;
  return strSize(h.key) + strSize(h.value) + (h.rawValue.length > 0 ? nested(h.rawValue.length) : 0);
}

/** A one-byte tag, the length and `length` bytes. */
function nested(length: number): number {
  return 1 + varintSize(length) + length;
}

function strSize(s: string): number {
  return s === "" ? 0 : nested(utf8Length(s));
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** A non-negative int32 field (omitted when 0). */
function intSize(v: number): number {
  return v === 0 ? 0 : 1 + varintSize(v);
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes into a buffer of the size computed beforehand; `done` checks the two agree. */
class Writer {
  readonly #buf: Buffer;
  #pos = 0;

  constructor(size: number) {
    this.#buf = Buffer.allocUnsafe(size);
  }

  /** A length-delimited field's tag and length (its content follows). */
  tag(tag: number, length: number): void {
    this.#buf[this.#pos++] = tag;
    this.#varint(length);
  }

  /** A non-negative int32 field; 0 is the default and is omitted. */
  int(tag: number, v: number): void {
    if (v === 0) return;
    this.#buf[this.#pos++] = tag;
    this.#varint(v);
  }

  /** A string field; "" is the default and is omitted. */
  str(tag: number, s: string): void {
    if (s !== "") this.strAlways(tag, s);
  }

  /** An element of a repeated string field (written even when empty). */
  strAlways(tag: number, s: string): void {
    const length = utf8Length(s);
    this.tag(tag, length);
    this.#pos += this.#buf.write(s, this.#pos, "utf8");
  }

  bytes(tag: number, b: Uint8Array): void {
    this.tag(tag, b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  done(): Buffer {
    if (this.#pos !== this.#buf.length) throw new Error(`CheckResponse encoder wrote ${String(this.#pos)} of ${String(this.#buf.length)} bytes`);
    return this.#buf;
  }

  #varint(v: number): void {
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.#buf[this.#pos++] = v;
  }
}
