import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildPodLoadAssignment, clusterLoadAssignmentErrors } from "./cluster-load-assignment.js";
import { buildSharedCluster, clustersErrors } from "./cluster.js";
import { pod } from "./model.fixture.js";

describe("cluster load assignment", () => {
  it("accepts a pod's IPv4 or IPv6 endpoint", () => {
    assert.deepEqual(clusterLoadAssignmentErrors(buildPodLoadAssignment("ns/a/p", pod("p", "10.0.0.1"))), []);
    assert.deepEqual(clusterLoadAssignmentErrors(buildPodLoadAssignment("ns/a/p", pod("p", "fd00::1"))), []);
  });

  it("reports an endpoint address that is not an IP literal (EDS does no DNS), with its path", () => {
    for (const host of ["localhost", "shiny-0.internal", "300.1.1.1"]) {
      assert.deepEqual(clusterLoadAssignmentErrors(buildPodLoadAssignment("ns/a/p", pod("p", host)), "endpoints[0]"), [
        `endpoints[0].endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: "${host}" is not an IP address (Envoy's EDS takes IP addresses only, not host names)`,
      ]);
    }
  });

  it("keeps accepting host names inline in a STRICT_DNS shared cluster, not in a STATIC one", () => {
    assert.deepEqual(clustersErrors([buildSharedCluster("ticketplane-als", { host: "ticketplane.ticketplane-system.svc.cluster.local", port: 9002 }, { http2: true })]), []);
    const statics = buildSharedCluster("ticketplane-authz", { host: "127.0.0.1", port: 9001 }, { http2: true });
    const endpoint = statics.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.endpoint?.address?.socketAddress;
    assert.ok(endpoint !== undefined);
    endpoint.address = "authz.local";
    assert.deepEqual(clustersErrors([statics]), [
      'clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: "authz.local" is not an IP address (a STATIC cluster takes IP addresses only, not host names)',
    ]);
  });
});
