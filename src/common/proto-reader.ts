/**
 * A minimal protobuf wire reader for the decoders that read only part of a
 * message (the Check request, the xDS request's resource names): fields are
 * visited in order, the caller reads those it wants and the rest are
 * skipped by wire type. Malformed bytes throw (the gRPC edges turn that
 * into UndecodableMessage).
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export class ProtoReader {
  pos = 0;
  /** The field `next` read last: its number, wire type, where its tag starts and where it ends (a length-delimited field's content end, else `pos` after the tag). */
  field = 0;
  wire = 0;
  fieldStart = 0;
  fieldEnd = 0;
  constructor(private readonly buf: Buffer) {}

  /**
   * Reads the tag of the next field before `end` (and a length-delimited
   * field's length) into `field`, `wire`, `fieldStart`, `fieldEnd`, and
   * returns true; or returns false at `end`. The caller reads the field
   * (leaving `pos` at `fieldEnd`) or calls `skip`. A loop over `next` makes
   * no closure per message, which `fields` does; nested reads overwrite
   * these properties, so keep `fieldEnd` in a local before reading inside.
   */
  next(end: number): boolean {
    if (this.pos >= end) {
      if (this.pos !== end) throw new Error(`message overruns its length (offset ${String(this.pos)})`);
      return false;
    }
    this.fieldStart = this.pos;
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) throw new Error(`invalid field 0 at offset ${String(this.pos)}`);
    let fieldEnd = this.pos;
    if (wire === WIRE_LEN) {
      const length = this.varint();
      fieldEnd = this.pos + length;
      if (fieldEnd > end) throw new Error(`field ${String(field)} runs past its message (offset ${String(this.pos)})`);
    }
    this.field = field;
    this.wire = wire;
    this.fieldEnd = fieldEnd;
    return true;
  }

  /** Skips the field `next` read last. */
  skip(): void {
    this.#skip(this.wire, this.fieldEnd);
  }

  /**
   * Reads the fields up to `end`: `take(field, wireType, fieldEnd)` reads a
   * field it wants (leaving `pos` at `fieldEnd`) and returns true, or
   * returns false and the field is skipped. `fieldEnd` is the end of a
   * length-delimited field's content (else `pos`); `fieldStart` is where
   * its tag starts.
   */
  fields(end: number, take: (field: number, wire: number, fieldEnd: number, fieldStart: number) => boolean): void {
    while (this.next(end)) {
      const { field, wire, fieldEnd, fieldStart } = this;
      if (take(field, wire, fieldEnd, fieldStart)) {
        if (wire === WIRE_LEN) this.pos = fieldEnd;
        continue;
      }
      this.#skip(wire, fieldEnd);
    }
  }

  string(end: number): string {
    const s = this.buf.toString("utf8", this.pos, end);
    this.pos = end;
    return s;
  }

  slice(start: number, end: number): string {
    return this.buf.toString("utf8", start, end);
  }

  /** Bytes [pos, end), without a copy; moves past them. */
  bytes(end: number): Buffer {
    const b = this.buf.subarray(this.pos, end);
    this.pos = end;
    return b;
  }

  varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++] ?? 0;
      // Beyond 2^53 the value is not exact; lengths and tags never get there, and skipped values are not used.
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
    throw new Error("varint longer than 10 bytes");
  }

  #skip(wire: number, fieldEnd: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.pos = fieldEnd;
    else if (wire === WIRE_FIXED64) this.pos += 8;
    else if (wire === WIRE_FIXED32) this.pos += 4;
    else throw new Error(`unsupported wire type ${String(wire)}`);
    if (this.pos > this.buf.length) throw new Error("truncated field");
  }
}
