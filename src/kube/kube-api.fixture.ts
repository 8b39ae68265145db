/**
 * client-node clients for the test API server (test code only): a
 * KubeConfig pointed at it over plain HTTP, as the adapters get one from
 * the mode in production.
 */
import { CoordinationV1Api, CoreV1Api, EventsV1Api, KubeConfig } from "@kubernetes/client-node";
import type { KubeApiServer } from "../../test/support/kube-api/server.js";

export interface ApiClients {
  readonly kubeConfig: KubeConfig;
  readonly coordination: CoordinationV1Api;
  readonly core: CoreV1Api;
  readonly events: EventsV1Api;
}

/** `token`: the bearer token, which tells clients apart for the server's `partition` (default "test"). */
export function apiClients(server: KubeApiServer, token = "test"): ApiClients {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    // client-node refuses plain http unless TLS verification is off; the test server speaks no TLS.
    clusters: [{ name: "test", server: server.url, skipTLSVerify: true }],
    users: [{ name: "test", token }],
    contexts: [{ name: "test", cluster: "test", user: "test", namespace: "default" }],
    currentContext: "test",
  });
  return { kubeConfig, coordination: kubeConfig.makeApiClient(CoordinationV1Api), core: kubeConfig.makeApiClient(CoreV1Api), events: kubeConfig.makeApiClient(EventsV1Api) };
}
