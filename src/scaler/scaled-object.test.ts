import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveApp } from "./scaled-object.js";

describe("resolveApp", () => {
  const ok = (app: string) => ({ ok: true, app });

  it("takes namespace/name from scalerMetadata.app", () => {
    assert.deepEqual(resolveApp({ name: "so", namespace: "keda", scalerMetadata: { app: "team-a/notebook", scalerAddress: "tp:9003" } }), ok("team-a/notebook"));
  });

  it("takes a bare name in the ScaledObject's namespace", () => {
    assert.deepEqual(resolveApp({ name: "so", namespace: "team-b", scalerMetadata: { app: "notebook" } }), ok("team-b/notebook"));
  });

  it("without app, names the app like the ScaledObject", () => {
    assert.deepEqual(resolveApp({ name: "notebook", namespace: "team-c", scalerMetadata: {} }), ok("team-c/notebook"));
    assert.deepEqual(resolveApp({ name: "notebook", namespace: "team-c" }), ok("team-c/notebook"));
  });

  const refused: readonly [string, Parameters<typeof resolveApp>[0], string, string][] = [
    ["nothing at all", undefined, "scaledObjectRef.namespace", ""],
    ["a ScaledObject without namespace", { name: "so" }, "scaledObjectRef.namespace", ""],
    ["three parts", { namespace: "ns", scalerMetadata: { app: "a/b/c" } }, "scalerMetadata.app", "a/b/c"],
    ["an empty namespace part", { namespace: "ns", scalerMetadata: { app: "/b" } }, "scalerMetadata.app", "/b"],
    ["an upper-case name", { namespace: "ns", scalerMetadata: { app: "ns/Notebook" } }, "scalerMetadata.app", "ns/Notebook"],
    ["an empty app", { namespace: "ns", scalerMetadata: { app: "" } }, "scalerMetadata.app", ""],
    ["a bare name without any namespace", { scalerMetadata: { app: "nb" } }, "scaledObjectRef.namespace (scalerMetadata.app names no namespace)", ""],
  ];
  for (const [what, ref, field, value] of refused) {
    it(`refuses ${what}, naming the field and value`, () => {
      const r = resolveApp(ref);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.field.startsWith(field), true, r.field);
      assert.equal(r.value, value);
      assert.match(r.rule, /DNS-1123|namespace\/name/);
    });
  }
});
