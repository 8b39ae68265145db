import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type HeaderValueOption, HeaderValueOption_HeaderAppendAction as Action } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { appendActionOf, applyHeaderOption, applyQueryParameters, type HeaderList, removeHeaders } from "./header-mutation.js";

function option(key: string, value: string, how: { append?: boolean; action?: Action; keepEmpty?: boolean } = {}): HeaderValueOption {
  return { header: { key, value, rawValue: Buffer.alloc(0) }, ...(how.append === undefined ? {} : { append: how.append }), appendAction: how.action ?? Action.APPEND_IF_EXISTS_OR_ADD, keepEmptyValue: how.keepEmpty ?? false };
}

const list = (entries: Record<string, string[]>): HeaderList => new Map(Object.entries(entries));
const apply = (start: Record<string, string[]>, o: HeaderValueOption): { changed: boolean; headers: Record<string, string[]> } => {
  const headers = list(start);
  const changed = applyHeaderOption(headers, o);
  return { changed, headers: Object.fromEntries(headers) };
};

describe("ext_authz header mutations (Envoy's append semantics)", () => {
  it("append: true appends a value to an existing header, or adds it", () => {
    assert.deepEqual(apply({ "set-cookie": ["a=1"] }, option("Set-Cookie", "t=2", { append: true })), { changed: true, headers: { "set-cookie": ["a=1", "t=2"] } });
    assert.deepEqual(apply({}, option("x-a", "1", { append: true })).headers, { "x-a": ["1"] });
  });

  it("append: false overwrites every existing value, or adds it; it wins over append_action", () => {
    assert.deepEqual(apply({ "x-ticketplane-cluster": ["forged", "twice"] }, option("x-ticketplane-cluster", "ns/app/p", { append: false, action: Action.ADD_IF_ABSENT })).headers, { "x-ticketplane-cluster": ["ns/app/p"] });
    assert.deepEqual(apply({}, option("x-a", "1", { append: false })).headers, { "x-a": ["1"] });
  });

  it("APPEND_IF_EXISTS_OR_ADD without `append` is read as this message's documented default: overwrite", () => {
    assert.equal(appendActionOf(option("x", "1")), Action.OVERWRITE_IF_EXISTS_OR_ADD);
    assert.deepEqual(apply({ x: ["old"] }, option("x", "new")).headers, { x: ["new"] });
  });

  it("ADD_IF_ABSENT adds only a header that is not there", () => {
    assert.deepEqual(apply({ x: ["old"] }, option("x", "new", { action: Action.ADD_IF_ABSENT })), { changed: false, headers: { x: ["old"] } });
    assert.deepEqual(apply({}, option("x", "new", { action: Action.ADD_IF_ABSENT })), { changed: true, headers: { x: ["new"] } });
  });

  it("OVERWRITE_IF_EXISTS_OR_ADD replaces or adds", () => {
    assert.deepEqual(apply({ x: ["a", "b"] }, option("x", "c", { action: Action.OVERWRITE_IF_EXISTS_OR_ADD })).headers, { x: ["c"] });
    assert.deepEqual(apply({}, option("x", "c", { action: Action.OVERWRITE_IF_EXISTS_OR_ADD })).headers, { x: ["c"] });
  });

  it("OVERWRITE_IF_EXISTS replaces but never adds", () => {
    assert.deepEqual(apply({ x: ["a"] }, option("x", "c", { action: Action.OVERWRITE_IF_EXISTS })), { changed: true, headers: { x: ["c"] } });
    assert.deepEqual(apply({}, option("x", "c", { action: Action.OVERWRITE_IF_EXISTS })), { changed: false, headers: {} });
  });

  it("reports no change when an overwrite writes the value already there (the route cache stays)", () => {
    assert.equal(apply({ x: ["same"] }, option("x", "same", { append: false })).changed, false);
  });

  it("drops an empty value unless keep_empty_value, and never touches pseudo-headers", () => {
    assert.deepEqual(apply({}, option("x", "")), { changed: false, headers: {} });
    assert.deepEqual(apply({}, option("x", "", { keepEmpty: true })).headers, { x: [""] });
    assert.deepEqual(apply({}, option(":path", "/evil", { append: false })), { changed: false, headers: {} });
  });

  it("takes raw_value when value is empty", () => {
    const headers = list({});
    applyHeaderOption(headers, { header: { key: "x", value: "", rawValue: Buffer.from("raw") }, append: false, appendAction: 0, keepEmptyValue: false });
    assert.deepEqual(headers.get("x"), ["raw"]);
  });

  it("headers_to_remove removes case-insensitively, but never Host or a pseudo-header", () => {
    const headers = list({ "x-ticketplane-cluster": ["forged"], host: ["a"], authorization: ["secret"] });
    assert.equal(removeHeaders(headers, ["X-Ticketplane-Cluster", "host", ":authority", "absent"]), true);
    assert.deepEqual(Object.fromEntries(headers), { host: ["a"], authorization: ["secret"] });
    assert.equal(removeHeaders(headers, ["absent"]), false);
  });

  it("query_parameters_to_set overwrites or adds, query_parameters_to_remove removes (case-sensitive)", () => {
    assert.equal(applyQueryParameters("/a?x=1&y=2&x=3&Y=4", [{ key: "x", value: "9" }, { key: "z", value: "a b" }], ["y"]), "/a?x=9&Y=4&z=a+b");
    assert.equal(applyQueryParameters("/a?y=2", [], ["y"]), "/a");
    const same = "/untouched?q=1";
    assert.equal(applyQueryParameters(same, [], []), same);
  });
});
