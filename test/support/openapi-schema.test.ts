import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyDefaults, structuralProblems, validate } from "./openapi-schema.js";

const schema = {
  type: "object",
  properties: {
    n: { type: "integer", minimum: 1, maximum: 3, default: 2 },
    d: { "x-kubernetes-int-or-string": true, minimum: 0, pattern: "^[0-9]+s$" },
    s: { type: "object", default: {}, properties: { b: { type: "boolean", default: true } } },
    c: { type: "object", required: ["x"], properties: { x: { type: "string", enum: ["a"] } } },
    open: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  },
};

describe("openapi-schema (test support)", () => {
  it("accepts what fits and fills defaults, nested ones included", () => {
    assert.deepEqual(validate(schema, { n: 3, d: "5s", c: { x: "a" }, open: { any: 1 } }), []);
    assert.deepEqual(validate(schema, { d: 7 }), []);
    assert.deepEqual(applyDefaults(schema, {}), { n: 2, s: { b: true } });
  });

  it("refuses types, bounds, patterns, enums, missing required and unknown fields, with paths", () => {
    const errors = validate(schema, { n: 4, d: 1.5, s: { b: "yes", z: 1 }, c: { x: "b" }, zz: true });
    assert.deepEqual(errors.map((e) => e.path).sort(), ["c.x", "d", "n", "s.b", "s.z", "zz"]);
    assert.deepEqual(validate(schema, { d: "5m" }).map((e) => e.path), ["d"]);
    assert.deepEqual(validate(schema, { c: {} }).map((e) => `${e.path} ${e.message}`), ["c.x is required"]);
  });

  it("checks maps (additionalProperties), sizes and unions over required (Istio's CRDs use them)", () => {
    const map = { type: "object", additionalProperties: { type: "string", minLength: 1 }, maxProperties: 2 };
    assert.deepEqual(validate(map, { a: "x", b: "y" }), []);
    assert.deepEqual(validate(map, { a: 1 }), [{ path: "a", message: "must be of type string" }]);
    assert.deepEqual(validate(map, { a: "" }), [{ path: "a", message: "must have at least 1 (minLength)" }]);
    assert.equal(validate(map, { a: "x", b: "y", c: "z" }).length, 1);
    const union = { type: "object", properties: { a: { type: "string" }, b: { type: "string" } }, oneOf: [{ not: { anyOf: [{ required: ["a"] }, { required: ["b"] }] } }, { required: ["a"] }, { required: ["b"] }] };
    assert.deepEqual(validate(union, {}), []);
    assert.deepEqual(validate(union, { a: "x" }), []);
    assert.match(validate(union, { a: "x", b: "y" })[0]?.message ?? "", /exactly one/);
    assert.deepEqual(validate({ type: "array", items: { type: "string" }, minItems: 1 }, []), [{ path: "", message: "must have at least 1 (minItems)" }]);
  });

  it("finds what is not structural", () => {
    assert.deepEqual(structuralProblems(schema), []);
    assert.deepEqual(structuralProblems({ type: "object", properties: { a: {} } }), ["a: no type"]);
    assert.match(structuralProblems({ type: "string", pattern: "^(?!x)" }).join(), /not RE2/);
    assert.match(structuralProblems({ type: "string", "x-kubernetes-validations": [] }).join(), /keyword x-kubernetes-validations is not checked/);
    assert.match(structuralProblems({ type: "integer", default: "x" }).join(), /default invalid/);
  });
});
