import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildPodCluster, buildSharedCluster, clustersErrors } from "./cluster.js";

describe("cluster", () => {
  it("builds valid pod and shared clusters", () => {
    assert.deepEqual(clustersErrors([buildPodCluster("ns/app/pod-0"), buildSharedCluster("ticketplane-als", { host: "::1", port: 9002 }, { http2: true })]), []);
  });

  it("validator reports an EDS cluster not on ADS, inline endpoints under another name, bad ports and duplicates, with paths", () => {
    const eds = buildPodCluster("ns/app/pod-0");
    eds.edsClusterConfig = { serviceName: "" };
    const shared = buildSharedCluster("ticketplane-authz", { host: "authz.local", port: 0 }, { http2: true });
    if (shared.loadAssignment) shared.loadAssignment.clusterName = "other";
    assert.deepEqual(clustersErrors([eds, shared, buildPodCluster("ns/app/pod-0")]), [
      "clusters[0].eds_cluster_config.eds_config.ads: required (endpoints come over ADS)",
      "clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: 0 is not a port in 1..65535",
      'clusters[1].load_assignment.cluster_name: "other" differs from the cluster name "ticketplane-authz"',
      'clusters[2].name: duplicate cluster name "ns/app/pod-0" (first at index 0)',
    ]);
  });
});
