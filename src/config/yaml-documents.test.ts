import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseYamlDocuments } from "./yaml-documents.js";

describe("parseYamlDocuments", () => {
  it("reads every document of a stream and drops empty ones", () => {
    assert.deepEqual(parseYamlDocuments("---\na: 1\n---\n---\nb: [2]\n"), { ok: true, documents: [{ a: 1 }, { b: [2] }] });
  });

  it("reports syntax errors with line and column, never throwing", () => {
    const r = parseYamlDocuments("a: 1\nb: [1,\n");
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.match(r.errors[0]?.path ?? "", /^line \d+, column \d+$/);
    assert.match(r.errors[0]?.rule ?? "", /^YAML /);
  });

  it("reports duplicate keys at the duplicate", () => {
    const r = parseYamlDocuments("a: 1\nb: 2\na: 3\n");
    assert.deepEqual(r, { ok: false, errors: [{ path: "line 3, column 1", value: "a: 3", rule: "YAML DUPLICATE_KEY: Map keys must be unique" }] });
  });

  it("reports tabs used for indentation", () => {
    const r = parseYamlDocuments("a:\n\tb: 2\n");
    assert.ok(!r.ok && r.errors[0]?.path === "line 2, column 1");
  });

  it("refuses alias bombs instead of expanding them", () => {
    const text = "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n";
    const r = parseYamlDocuments(text);
    assert.ok(!r.ok && /alias/i.test(r.errors[0]?.rule ?? ""));
  });

  it("keeps YAML 1.2 core semantics: yes/no/on are strings", () => {
    assert.deepEqual(parseYamlDocuments("a: yes\nb: on\nc: true\n"), { ok: true, documents: [{ a: "yes", b: "on", c: true }] });
  });
});
