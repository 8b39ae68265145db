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
  constructor(private readonly buf: Buffer) {}

  /**
   * Reads the fields up to `end`: `take(field, wireType, fieldEnd)` reads a
   * field it wants (leaving `pos` at `fieldEnd`) and returns true, or
   * returns false and the field is skipped. `fieldEnd` is the end of a
   * length-delimited field's content (else `pos`); `fieldStart` is where
   * its tag starts.
   */
  fields(end: number, take: (field: number, wire: number, fieldEnd: number, fieldStart: number) => boolean): void {
    while (this.pos < end) {
      const fieldStart = this.pos;
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
      if (take(field, wire, fieldEnd, fieldStart)) {
        if (wire === WIRE_LEN) this.pos = fieldEnd;
        continue;
      }
      this.#skip(wire, fieldEnd);
    }
    if (this.pos !== end) throw new Error(`message overruns its length (offset ${String(this.pos)})`);
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
