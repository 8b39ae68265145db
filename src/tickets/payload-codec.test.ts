import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_U48, PayloadReader, PayloadWriter } from "./payload-codec.js";

describe("payload codec", () => {
  it("round-trips every field kind", () => {
    const buf = new PayloadWriter().u8(255).u16(65535).u48(MAX_U48).str("").str("héllo").toBuffer();
    const r = new PayloadReader(buf);
    assert.deepEqual([r.u8(), r.u16(), r.u48(), r.str(), r.str()], [255, 65535, MAX_U48, "", "héllo"]);
    assert.equal(r.done(), true);
  });

  it("round-trips payloads larger than the writer's first buffer, with multi-byte text", () => {
    const texts = ["a".repeat(100), "é".repeat(300), "€😀".repeat(700), "", "z"];
    const w = new PayloadWriter().u8(1);
    for (const t of texts) w.u16(t.length).str(t);
    const r = new PayloadReader(w.u48(MAX_U48).toBuffer());
    assert.equal(r.u8(), 1);
    for (const t of texts) assert.deepEqual([r.u16(), r.str()], [t.length, t]);
    assert.deepEqual([r.u48(), r.done()], [MAX_U48, true]);
  });

  it("reports overruns and trailing bytes", () => {
    const buf = new PayloadWriter().u16(7).str("abc").toBuffer();
    const short = new PayloadReader(buf.subarray(0, buf.length - 1));
    short.u16();
    short.str();
    assert.equal(short.done(), false);
    const long = new PayloadReader(Buffer.concat([buf, Buffer.from([1])]));
    long.u16();
    long.str();
    assert.equal(long.done(), false);
  });

  it("refuses values that do not fit", () => {
    assert.throws(() => new PayloadWriter().u8(256), RangeError);
    assert.throws(() => new PayloadWriter().u16(-1), RangeError);
    assert.throws(() => new PayloadWriter().u48(1.5), RangeError);
    assert.throws(() => new PayloadWriter().str("x".repeat(70_000)), RangeError);
  });
});
