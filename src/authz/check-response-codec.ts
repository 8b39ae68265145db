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

/**
 * A CheckResponse already encoded (allowed-responses.ts writes the allowed
 * answers from parts encoded once): the serializer sends its bytes as
 * they are, and its fields are decoded on first read, for a test or a log
 * line that looks at them. Read-only.
 */
export class EncodedCheckResponse implements CheckResponse {
  readonly bytes: Buffer;
  #decoded: CheckResponse | undefined;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  get status(): CheckResponse["status"] {
    return this.#decode().status;
  }
  get deniedResponse(): CheckResponse["deniedResponse"] {
    return this.#decode().deniedResponse;
  }
  get okResponse(): CheckResponse["okResponse"] {
    return this.#decode().okResponse;
  }
  get dynamicMetadata(): CheckResponse["dynamicMetadata"] {
    return this.#decode().dynamicMetadata;
  }

  #decode(): CheckResponse {
    this.#decoded ??= CheckResponse.decode(this.bytes);
    return this.#decoded;
  }
}

/** The wire bytes of `response` (the same bytes `CheckResponse.encode` writes). */
export function encodeCheckResponse(response: CheckResponse): Buffer {
  if (response instanceof EncodedCheckResponse) return response.bytes;
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

/** Where in OkHttpResponse a header option goes: the request's headers, or the response's. */
export type OkHeaderList = "headers" | "responseHeadersToAdd";

/** `options` as they are written into an OkHttpResponse's `where` list: bytes to place with encodeAllowed. */
export function encodeOkOptions(where: OkHeaderList, options: readonly HeaderValueOption[]): Buffer {
  const tag = where === "headers" ? OK_HEADERS : OK_RESPONSE_HEADERS;
  let size = 0;
  for (const o of options) size += nested(optionSize(o));
  const w = new Writer(size);
  for (const o of options) writeOption(w, tag, o);
  return w.done();
}

/**
 * An allowed answer (status OK) whose OkHttpResponse holds, in this order:
 * the request headers `podPart` (encoded options), `ticket`, `appPart`
 * (encoded options), then the response headers `cookie` (if any) and
 * `cookiePart` (encoded options, may be empty). The same bytes as
 * encodeCheckResponse writes for that response, without building it:
 * only the options that change per call are encoded per call.
 */
export interface AllowedParts {
  readonly podPart: Buffer;
  readonly ticket: HeaderValueOption;
  readonly appPart: Buffer;
  readonly cookie?: HeaderValueOption | undefined;
  readonly cookiePart?: Buffer | undefined;
}

export function encodeAllowed(p: AllowedParts): EncodedCheckResponse {
  const ticketSize = optionSize(p.ticket);
  const cookieSize = p.cookie === undefined ? 0 : optionSize(p.cookie);
  const okSize = p.podPart.length + nested(ticketSize) + p.appPart.length + (p.cookie === undefined ? 0 : nested(cookieSize)) + (p.cookiePart?.length ?? 0);
  // An empty Status (code OK, no message) is still written: tag and a zero length, as the generated encoder does.
  const w = new Writer(2 + nested(okSize));
  w.tag(CHECK_STATUS, 0);
  w.tag(CHECK_OK, okSize);
  w.raw(p.podPart);
  writeOptionSized(w, OK_HEADERS, p.ticket, ticketSize);
  w.raw(p.appPart);
  if (p.cookie !== undefined) writeOptionSized(w, OK_RESPONSE_HEADERS, p.cookie, cookieSize);
  if (p.cookiePart !== undefined) w.raw(p.cookiePart);
  return new EncodedCheckResponse(w.done());
}

function writeOption(w: Writer, tag: number, o: HeaderValueOption): void {
  writeOptionSized(w, tag, o, optionSize(o));
}

/** writeOption with the option's size already known. */
function writeOptionSized(w: Writer, tag: number, o: HeaderValueOption, size: number): void {
  w.tag(tag, size);
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

  /** Bytes already encoded (whole fields), as they are. */
  raw(b: Buffer): void {
    b.copy(this.#buf, this.#pos);
    this.#pos += b.length;
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
