/**
 * A fixed binary layout for token payloads: unsigned big-endian integers and
 * u16-length-prefixed UTF-8 strings. Cheaper than JSON on the hot path and
 * strict: the reader reports any overrun or trailing byte as a failure.
 */

/** Largest integer a 6-byte field holds (ms timestamps until year 10889). */
export const MAX_U48 = 2 ** 48 - 1;
const MAX_STRING_BYTES = 0xffff;

/**
 * Builds a payload, writing each field as it comes into one growing buffer
 * (a token is signed on every issue: no object per field). Throws on
 * out-of-range values: callers sign only values they produced.
 */
export class PayloadWriter {
  #buf = Buffer.allocUnsafe(128);
  #size = 0;

  u8(value: number): this {
    this.#int("u8", value, 0xff);
    this.#room(1);
    this.#size = this.#buf.writeUInt8(value, this.#size);
    return this;
  }
  u16(value: number): this {
    this.#int("u16", value, 0xffff);
    this.#room(2);
    this.#size = this.#buf.writeUInt16BE(value, this.#size);
    return this;
  }
  u48(value: number): this {
    this.#int("u48", value, MAX_U48);
    this.#room(6);
    this.#size = this.#buf.writeUIntBE(value, this.#size, 6);
    return this;
  }
  str(value: string): this {
    // A UTF-16 code unit is at most 3 bytes of UTF-8: room for the whole string, then its real length.
    this.#room(2 + 3 * value.length);
    const bytes = this.#buf.write(value, this.#size + 2, "utf8");
    if (bytes > MAX_STRING_BYTES) throw new RangeError(`string of ${bytes} bytes does not fit a token field`);
    this.#buf.writeUInt16BE(bytes, this.#size);
    this.#size += 2 + bytes;
    return this;
  }

  /** The payload written so far (a view of the writer's buffer: write nothing more after taking it). */
  toBuffer(): Buffer {
    return this.#buf.subarray(0, this.#size);
  }

  #int(kind: "u8" | "u16" | "u48", value: number, max: number): void {
    if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${value} does not fit ${kind}`);
  }

  #room(bytes: number): void {
    if (this.#size + bytes <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.#buf.length, this.#size + bytes));
    this.#buf.copy(grown, 0, 0, this.#size);
    this.#buf = grown;
  }
}

/** Reads a payload; every read returns undefined once the buffer is overrun. */
export class PayloadReader {
  readonly #buf: Buffer;
  #o = 0;
  #bad = false;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  u8(): number {
    return this.#take(1) ? this.#buf.readUInt8(this.#o - 1) : 0;
  }
  u16(): number {
    return this.#take(2) ? this.#buf.readUInt16BE(this.#o - 2) : 0;
  }
  u48(): number {
    return this.#take(6) ? this.#buf.readUIntBE(this.#o - 6, 6) : 0;
  }
  str(): string {
    const len = this.u16();
    return this.#take(len) ? this.#buf.toString("utf8", this.#o - len, this.#o) : "";
  }

  /** True when every read stayed in bounds and the whole buffer was consumed. */
  done(): boolean {
    return !this.#bad && this.#o === this.#buf.length;
  }

  #take(n: number): boolean {
    if (this.#bad || this.#o + n > this.#buf.length) {
      this.#bad = true;
      return false;
    }
    this.#o += n;
    return true;
  }
}
