import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorSink, prefixErrors, specError } from "./spec-errors.js";

const S = "c3VwZXItc2VjcmV0LWRvLW5vdC1sZWFr";

describe("specError: no error value carries a secret", () => {
  it("replaces the value of a field named like a secret, keeping only its length", () => {
    assert.deepEqual(specError("keys[0].secret", S, "must be base64"), { path: "keys[0].secret", value: "<redacted, 32 bytes>", rule: "must be base64" });
    assert.deepEqual(specError('metadata.annotations["x/clientSecret"]', 12345678, "r"), { path: 'metadata.annotations["x/clientSecret"]', value: "<redacted>", rule: "r" });
    assert.deepEqual(specError("keys[0].secret", undefined, "is required").value, undefined);
  });

  it("replaces a key entry's fields but its id, and a misspelt secret field", () => {
    assert.equal(specError("keys[0].key", S, "unknown field").value, "<redacted, 32 bytes>");
    assert.equal(specError("keys[1]", S, "must be a mapping { id, secret }, not a string").value, "<redacted, 32 bytes>");
    assert.equal(specError("keys[0].id", "k/1", "must be URL-safe").value, "k/1");
    assert.equal(specError("keys[0].secert", S, 'unknown field (did you mean "secret"?)').value, "<redacted, 32 bytes>");
    assert.deepEqual(specError("keys", [{ id: "k1", key: S }, S], "must be a mapping").value, [{ id: "k1", key: "<redacted, 32 bytes>" }, "<redacted, 32 bytes>"]);
  });

  it("replaces secret fields at any depth of a mapping or list value, leaving the rest", () => {
    const value = [{ id: "k1", secret: S }, { id: "k2", nested: { Secret: S, password: [S] } }];
    assert.deepEqual(specError("spec.items", value, "must be a mapping").value, [
      { id: "k1", secret: "<redacted, 32 bytes>" },
      { id: "k2", nested: { Secret: "<redacted, 32 bytes>", password: "<redacted>" } },
    ]);
  });

  it("replaces a text that holds a secret field (a YAML line), and a secret echoed in the rule", () => {
    assert.equal(specError("line 3, column 5", `- { id: k1, secret: "${S}" }`, "YAML").value, "<redacted, 56 bytes>");
    assert.equal(specError("metadata.labels.secret", 98765432, 'must be a string (quote it: "98765432")').rule, 'must be a string (quote it: "<redacted>")');
  });

  it("is the one way errors are built: ErrorSink.add, addAll and prefixErrors all redact, and redacting twice changes nothing", () => {
    const sink = new ErrorSink();
    sink.add("keys", [{ secret: S }], "must be a mapping");
    sink.addAll([{ path: "spec.secret", value: S, rule: "unknown field" }]);
    const prefixed = prefixErrors("documents[1]", [{ path: "spec.secret", value: S, rule: "unknown field" }]);
    for (const e of [...sink.errors, ...prefixed]) assert.ok(!JSON.stringify(e).includes(S), JSON.stringify(e));
    assert.deepEqual(specError("spec.secret", sink.errors[1]?.value, "unknown field"), sink.errors[1]);
  });
});
