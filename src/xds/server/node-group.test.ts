import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Node } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { defaultNodeGroup } from "./node-group.js";

describe("defaultNodeGroup", () => {
  it("prefers metadata ticketplane.group, then node.cluster, then 'default'", () => {
    assert.equal(defaultNodeGroup(Node.fromPartial({ cluster: "c", metadata: { "ticketplane.group": "g" } })), "g");
    assert.equal(defaultNodeGroup(Node.fromPartial({ cluster: "c", metadata: { "ticketplane.group": 7 } })), "c");
    assert.equal(defaultNodeGroup(Node.fromPartial({ cluster: "c" })), "c");
    assert.equal(defaultNodeGroup(Node.fromPartial({})), "default");
  });
});
