/**
 * A fixed binary layout for token payloads: unsigned big-endian integers and
 * u16-length-prefixed UTF-8 strings. Cheaper than JSON on the hot path and
 * strict: the reader reports any overrun or trailing byte as a failure.
 */

/** Largest integer a 6-byte field holds (ms timestamps until year 10889). */
export const MAX_U48 = 2 ** 48 - 1;
const MAX_STRING_BYTES = 0xffff;

type Field = { readonly kind: "u8" | "u16" | "u48"; readonly value: number } | { readonly kind: "str"; readonly value: string };

/** Builds a payload. Throws on out-of-range values: callers sign only values they produced. */
export class PayloadWriter {
  readonly #fields: Field[] = [];
  #size = 0;

  u8(value: number): this {
    return this.#int("u8", value, 0xff, 1);
  }
  u16(value: number): this {
    return this.#int("u16", value, 0xffff, 2);
  }
  u48(value: number): this {
    return this.#int("u48", value, MAX_U48, 6);
  }
  str(value: string): this {
    const bytes = Buffer.byteLength(value, "utf8");
    if (bytes > MAX_STRING_BYTES) throw new RangeError(`string of ${bytes} bytes does not fit a token field`);
    this.#fields.push({ kind: "str", value });
    this.#size += 2 + bytes;
    return this;
  }

  toBuffer(): Buffer {
    const buf = Buffer.allocUnsafe(this.#size);
    let o = 0;
    for (const f of this.#fields) {
      if (f.kind === "str") {
        const n = buf.write(f.value, o + 2, "utf8");
        buf.writeUInt16BE(n, o);
        o += 2 + n;
      } else if (f.kind === "u8") o = buf.writeUInt8(f.value, o);
      else if (f.kind === "u16") o = buf.writeUInt16BE(f.value, o);
      else o = buf.writeUIntBE(f.value, o, 6);
    }
    return buf;
  }

  #int(kind: "u8" | "u16" | "u48", value: number, max: number, bytes: number): this {
    if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${value} does not fit ${kind}`);
    this.#fields.push({ kind, value });
    this.#size += bytes;
    return this;
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
