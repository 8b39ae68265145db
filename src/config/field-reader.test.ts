import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Bound } from "./bounds.js";
import { FieldReader, pathUnder } from "./field-reader.js";

const TEN: Bound = { value: 10, why: "ten is plenty" };
const MINUTE: Bound = { value: 60_000, why: "a minute is plenty" };
const SECOND: Bound = { value: 1000, why: "a second at least" };

function reader(numbersFromStrings = false): FieldReader {
  return new FieldReader(pathUnder("x"), numbersFromStrings);
}

describe("FieldReader.int", () => {
  it("a range by nature: one rule for every value outside it", () => {
    const r = reader();
    assert.deepEqual([r.int("a", 1, { min: 1, max: 5 }), r.int("b", 5, { min: 1, max: 5 }), r.int("c", 0, { min: 1, max: 5 }), r.int("d", 6, { min: 1, max: 5 }), r.int("e", 2.5, { min: 1, max: 5 })], [1, 5, undefined, undefined, undefined]);
    assert.deepEqual(r.errors.map((e) => [e.path, e.value, e.rule]), [
      ["x.c", 0, "must be an integer 1–5"],
      ["x.d", 6, "must be an integer 1–5"],
      ["x.e", 2.5, "must be an integer 1–5"],
    ]);
  });

  it("a bound: accepted up to it, refused just over it with its reason; below min the integer rule", () => {
    const r = reader();
    assert.deepEqual([r.int("a", 10, { min: 0, max: TEN }), r.int("b", 11, { min: 0, max: TEN }), r.int("c", -1, { min: 0, max: TEN }), r.int("d", "3", { min: 0, max: TEN }), r.int("e", 1e20, { min: 0, max: TEN })], [10, undefined, undefined, undefined, undefined]);
    assert.deepEqual(r.errors.map((e) => [e.path, e.value, e.rule]), [
      ["x.b", 11, "must be ≤ 10 (ten is plenty)"],
      ["x.c", -1, "must be an integer ≥ 0"],
      ["x.d", "3", "must be an integer ≥ 0"],
      ["x.e", 1e20, "must be ≤ 10 (ten is plenty)"],
    ]);
  });

  it("annotations: strings of digits, bounded the same way", () => {
    const r = reader(true);
    assert.deepEqual([r.int("a", " 10 ", { min: 0, max: TEN }), r.int("b", "11", { min: 0, max: TEN }), r.int("c", "99999999999999999999", { min: 0, max: TEN })], [10, undefined, undefined]);
    assert.deepEqual(r.errors.map((e) => e.rule), ["must be ≤ 10 (ten is plenty)", "must be ≤ 10 (ten is plenty)"]);
  });

  it("absent is no error", () => {
    const r = reader();
    assert.equal(r.int("a", undefined, { min: 0, max: TEN }), undefined);
    assert.equal(r.int("a", null, { min: 0, max: 1 }), undefined);
    assert.deepEqual(r.errors, []);
  });
});

describe("FieldReader.duration", () => {
  it("accepted up to its bound, refused just over it with the bound and its reason", () => {
    const r = reader();
    assert.deepEqual([r.duration("a", "1m", { max: MINUTE }), r.duration("b", "1m1ms", { max: MINUTE }), r.duration("c", 0, { max: MINUTE })], [60_000, undefined, 0]);
    assert.deepEqual(r.errors.map((e) => [e.path, e.value, e.rule]), [["x.b", "1m1ms", "must be ≤ 1m (a minute is plenty)"]]);
  });

  it("positive refuses zero; atLeast refuses less, with its reason", () => {
    const r = reader();
    assert.deepEqual([r.duration("a", "0s", { positive: true, max: MINUTE }), r.duration("b", "999ms", { atLeast: SECOND, max: MINUTE }), r.duration("c", "1s", { atLeast: SECOND, max: MINUTE })], [undefined, undefined, 1000]);
    assert.deepEqual(r.errors.map((e) => [e.path, e.value, e.rule]), [
      ["x.a", "0s", "must be a duration greater than zero"],
      ["x.b", "999ms", "must be ≥ 1s (a second at least)"],
    ]);
  });

  it("a value that is no duration breaks the duration rule, not the bound", () => {
    const r = reader();
    assert.equal(r.duration("a", "1 week", { max: MINUTE }), undefined);
    assert.match(r.errors[0]?.rule ?? "", /^must be a duration such as/);
  });
});
