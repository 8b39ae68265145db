/**
 * The manifests agree with each other and with the code: selectors find
 * pods, ports carry Istio protocol prefixes, every Istio cluster name and
 * authority names a Service port, every principal a ServiceAccount, every
 * VirtualService a Gateway host and Service, the config's listen ports the
 * container ports, and the dashboard only metrics the code registers.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readAppDocument } from "../../src/config/app-documents.js";
import { parseConfigFile } from "../../src/config/config-file.js";
import { ROOT } from "../e2e/serve-process.js";
import { parseEnvoyYaml } from "../support/envoy-config.js";
import { installed, ref, render, type Manifest } from "./manifests.js";

type Port = { name?: string; port: number; targetPort?: number | string; containerPort?: number };
type PodTemplate = { metadata: { labels: Record<string, string> }; spec: { serviceAccountName?: string; securityContext?: { runAsUser?: number }; containers: { name: string; ports?: Port[]; securityContext?: { runAsUser?: number } }[] } };

const all = installed();
const helm = render("istio/helm-gateway");
const of = (kind: string, objects: readonly Manifest[] = all): Manifest[] => objects.filter((m) => m.kind === kind);
const spec = <T>(m: Manifest): T => m.spec as T;
const deployments = of("Deployment");
const services = of("Service");
const template = (d: Manifest): PodTemplate => spec<{ template: PodTemplate }>(d).template;
const containerPorts = (d: Manifest): Port[] => template(d).spec.containers.flatMap((c) => c.ports ?? []);
const fqdn = (s: Manifest): string => `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`;
const serviceByHost = (host: string): Manifest | undefined => services.find((s) => fqdn(s) === host);
const servicePorts = (s: Manifest): Port[] => spec<{ ports: Port[] }>(s).ports;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
const ISTIO_PREFIX = /^(http|http2|https|grpc|grpc-web|tcp|tls|mongo|mysql|redis|udp)(-|$)/;
/** Identities that are not ours: the two ingress gateway styles and KEDA's operator. */
const EXTERNAL_PRINCIPALS = new Set(["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account", "cluster.local/ns/istio-ingress/sa/istio-ingress", "cluster.local/ns/keda/sa/keda-operator"]);
const RESERVED = [15000, 15001, 15002, 15004, 15006, 15008, 15020, 15021, 15053, 15090];

/** The Deployment whose pods `selector` selects in `namespace` (exactly one). */
function workload(namespace: string | undefined, selector: Record<string, string>): Manifest {
  const found = deployments.filter((d) => d.metadata.namespace === namespace && matches(selector, template(d).metadata.labels));
  assert.equal(found.length, 1, `${namespace}: ${JSON.stringify(selector)} selects ${found.length} Deployments`);
  return found[0];
}

describe("cross-references", () => {
  it("every Service selects the pods of one Deployment, and its targetPorts are that Deployment's container ports", () => {
    for (const s of services) {
      const d = workload(s.metadata.namespace, spec<{ selector: Record<string, string> }>(s).selector);
      const ports = containerPorts(d);
      for (const p of servicePorts(s)) {
        const target = p.targetPort ?? p.port;
        assert.ok(ports.some((c) => c.containerPort === target || c.name === target), `${ref(s)} port ${p.name}: targetPort ${target} is no container port of ${ref(d)}`);
      }
    }
  });

  it("every Service and container port name has an Istio protocol prefix, and no port is one Istio reserves", () => {
    for (const s of services) for (const p of servicePorts(s)) assert.match(p.name ?? "", ISTIO_PREFIX, `${ref(s)} port ${p.port}`);
    for (const d of deployments) {
      for (const p of containerPorts(d)) {
        assert.match(p.name ?? "", ISTIO_PREFIX, `${ref(d)} container port ${p.containerPort}`);
        assert.ok(!RESERVED.includes(p.containerPort ?? 0), `${ref(d)}: ${p.containerPort} is reserved by the sidecar`);
      }
    }
  });

  it("every Deployment's pods carry app and version (Kiali) and run as non-root, never as the sidecar's UID 1337", () => {
    for (const d of deployments) {
      const t = template(d);
      assert.ok(t.metadata.labels.app !== undefined && t.metadata.labels.version !== undefined, ref(d));
      const uids = [t.spec.securityContext?.runAsUser, ...t.spec.containers.map((c) => c.securityContext?.runAsUser)].filter((u) => u !== undefined);
      assert.ok(uids.length > 0 && !uids.includes(0) && !uids.includes(1337), `${ref(d)}: runAsUser ${JSON.stringify(uids)}`);
    }
  });

  it("every outbound|PORT||host cluster and authority in an EnvoyFilter is a grpc- port of a Service", () => {
    for (const f of [...of("EnvoyFilter"), ...of("EnvoyFilter", helm)]) {
      for (const p of spec<{ configPatches: { patch: { value: { typed_config: { grpc_service: { envoy_grpc: { cluster_name: string; authority: string } } } } } }[] }>(f).configPatches) {
        const g = p.patch.value.typed_config.grpc_service.envoy_grpc;
        const m = /^outbound\|(\d+)\|\|(.+)$/.exec(g.cluster_name);
        assert.ok(m?.[1] !== undefined && m[2] !== undefined, g.cluster_name);
        const s = serviceByHost(m[2]);
        assert.ok(s !== undefined, `${g.cluster_name}: no Service ${m[2]}`);
        assert.equal(g.authority, m[2], "authority is the Service host ('|' breaks HTTP/2)");
        const port = servicePorts(s).find((x) => x.port === Number(m[1]));
        assert.equal(port?.name, "grpc-authz", `${g.cluster_name}: port ${m[1]} of ${ref(s)}`);
      }
    }
  });

  it("the ticket gateway's bootstrap dials the grpc-xds port of ticketplane's Service; the config's access-log address its grpc-als port", () => {
    const boot = parseEnvoyYaml(readFileSync(join(ROOT, "envoy/gateway.yaml"), "utf8")) as { static_resources: { clusters: { load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] } }[] } };
    const sa = boot.static_resources.clusters[0]?.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address.socket_address;
    const s = serviceByHost(sa?.address ?? "");
    assert.ok(s !== undefined, sa?.address);
    assert.equal(servicePorts(s).find((p) => p.port === sa?.port_value)?.name, "grpc-xds");
    const cfg = config();
    const als = cfg.gateway.accessLogAddress;
    assert.ok(als !== undefined);
    assert.equal(servicePorts(serviceByHost(als.host) ?? s).find((p) => p.port === als.port)?.name, "grpc-als");
    assert.equal(cfg.gateway.extAuthz, false, "the ingress gateway runs Check; the ticket gateway must not run it again");
  });

  it("the config's listen ports are ticketplane's named container ports; the ticket gateway's listener is its http port", () => {
    const cfg = config();
    const ports = containerPorts(workload("ticketplane-system", { app: "ticketplane" }));
    const named = (name: string): number | undefined => ports.find((p) => p.name === name)?.containerPort;
    assert.deepEqual(
      [cfg.listen.authz.port, cfg.listen.accessLog.port, cfg.listen.keda?.port, cfg.listen.xds.port, cfg.listen.admin.port],
      [named("grpc-authz"), named("grpc-als"), named("grpc-keda"), named("grpc-xds"), named("http-admin")],
    );
    for (const l of [cfg.listen.authz, cfg.listen.xds, cfg.listen.accessLog, cfg.listen.admin]) assert.equal(l.host, "0.0.0.0", "reachable on the pod IP");
    assert.equal(containerPorts(workload("ticketplane-system", { app: "ticket-gateway" })).find((p) => p.name === "http")?.containerPort, cfg.gateway.listenerPort);
    assert.equal(cfg.check?.unmatched, "allow", "the EnvoyFilter sits on the default gateway listener, shared with other VirtualServices");
    const probes = template(workload("ticketplane-system", { app: "ticketplane" })).spec.containers[0] as unknown as { readinessProbe: { httpGet: { path: string; port: string } }; livenessProbe: { httpGet: { path: string; port: string } } };
    assert.deepEqual([probes.readinessProbe.httpGet, probes.livenessProbe.httpGet], [{ path: "/readyz", port: "http-admin" }, { path: "/healthz", port: "http-admin" }]);
  });

  it("every AuthorizationPolicy principal is a ServiceAccount we create or a known outside identity; every port one its workload listens on", () => {
    const accounts = new Set(of("ServiceAccount").map((s) => `cluster.local/ns/${s.metadata.namespace}/sa/${s.metadata.name}`));
    for (const p of [...of("AuthorizationPolicy"), ...of("AuthorizationPolicy", helm)]) {
      const s = spec<{ selector: { matchLabels: Record<string, string> }; rules: { from: { source: { principals: string[] } }[]; to: { operation: { ports: string[] } }[] }[] }>(p);
      const ports = containerPorts(workload(p.metadata.namespace, s.selector.matchLabels)).map((c) => String(c.containerPort));
      for (const r of s.rules) {
        for (const principal of r.from.flatMap((f) => f.source.principals)) assert.ok(accounts.has(principal) || EXTERNAL_PRINCIPALS.has(principal), `${ref(p)}: ${principal}`);
        for (const port of r.to.flatMap((t) => t.operation.ports)) assert.ok(ports.includes(port), `${ref(p)}: port ${port}`);
      }
    }
    for (const d of deployments) {
      const sa = template(d).spec.serviceAccountName;
      if (sa !== undefined) assert.ok(accounts.has(`cluster.local/ns/${d.metadata.namespace}/sa/${sa}`), `${ref(d)}: ServiceAccount ${sa}`);
    }
  });

  it("the Helm overlay changes the gateway label and identity everywhere, and leaves no istioctl one behind", () => {
    const text = JSON.stringify(helm);
    assert.doesNotMatch(text, /ingressgateway/);
    for (const f of of("EnvoyFilter", helm)) assert.deepEqual(spec<{ workloadSelector: { labels: unknown } }>(f).workloadSelector.labels, { istio: "ingress" });
    for (const g of of("Gateway", helm)) assert.deepEqual(spec<{ selector: unknown }>(g).selector, { istio: "ingress" });
    for (const g of of("Gateway")) assert.deepEqual(spec<{ selector: unknown }>(g).selector, spec<{ workloadSelector: { labels: unknown } }>(of("EnvoyFilter")[0]).workloadSelector.labels);
  });

  it("every VirtualService names a Gateway that accepts its hosts and routes to a Service port; each app's route is ticketplane-<app>", () => {
    const gateways = of("Gateway");
    const apps = [...of("TicketedApp"), ...of("Deployment")].map((m) => readAppDocument(m)).flatMap((r) => (r.kind === "app" ? [r.spec] : []));
    assert.deepEqual(apps.map((a) => a.name).sort(), ["demo", "demo-k8s"]);
    for (const vs of of("VirtualService")) {
      const s = spec<{ hosts: string[]; gateways: string[]; http: { name: string; match: { uri: { prefix: string } }[]; route: { destination: { host: string; port: { number: number } } }[] }[] }>(vs);
      for (const name of s.gateways) {
        const [ns, gw] = name.split("/");
        const g = gateways.find((x) => x.metadata.namespace === ns && x.metadata.name === gw);
        assert.ok(g !== undefined, `${ref(vs)}: gateway ${name}`);
        const accepted = spec<{ servers: { hosts: string[] }[] }>(g).servers.flatMap((x) => x.hosts);
        for (const h of s.hosts) assert.ok(accepted.some((a) => a === h || a === "*" || (a.startsWith("*.") && h.endsWith(a.slice(1)))), `${ref(vs)}: host ${h} not in ${accepted.join(", ")}`);
      }
      for (const route of s.http) for (const d of route.route) assert.ok(servicePorts(serviceByHost(d.destination.host) as Manifest).some((p) => p.port === d.destination.port.number), `${ref(vs)} → ${d.destination.host}`);
      const app = apps.find((a) => a.namespace === vs.metadata.namespace && a.name === vs.metadata.name);
      assert.ok(app !== undefined, `${ref(vs)}: named after no app (the reconciler finds an app's VirtualService by the app's name)`);
      const route = s.http.find((r) => r.name === `ticketplane-${app.name}`);
      assert.ok(route !== undefined, `${ref(vs)}: no route ticketplane-${app.name}`);
      assert.ok(route.match.some((m) => m.uri.prefix === app.pathPrefix), `${ref(vs)}: the route matches ${app.pathPrefix}`);
      if (app.host !== undefined) assert.ok(s.hosts.includes(app.host), `${ref(vs)}: host ${app.host}`);
    }
  });

  it("every app's pods are reached through a headless Service whose port is TCP/auto and equals its targetPort and the app's port", () => {
    const apps = [...of("TicketedApp"), ...of("Deployment")].map((m) => readAppDocument(m)).flatMap((r) => (r.kind === "app" ? [r.spec] : []));
    for (const app of apps) {
      const d = deployments.find((x) => x.metadata.namespace === app.namespace && x.metadata.name === app.deployment);
      assert.ok(d !== undefined, `${app.name}: Deployment ${app.deployment}`);
      const headless = services.filter((s) => s.metadata.namespace === app.namespace && spec<{ clusterIP?: string }>(s).clusterIP === "None" && matches(spec<{ selector: Record<string, string> }>(s).selector, template(d).metadata.labels));
      assert.equal(headless.length, 1, `${app.name}: headless Services`);
      const p = servicePorts(headless[0]).find((x) => x.port === app.podPort);
      assert.ok(p !== undefined, `${app.name}: no headless port ${app.podPort}`);
      assert.equal(p.targetPort, p.port);
      assert.match(p.name ?? "", /^tcp-/, "TCP, so the sidecar forwards to the pod dialled");
    }
  });

  it("the Grafana dashboard queries only metrics the code registers", () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, "deploy/grafana/ticketplane.json"), "utf8")) as { panels: { targets: { expr: string }[] }[] };
    const sources = sourceText();
    const names = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(k8sticket|ticketplane)_[a-z_]+/g) ?? []));
    assert.ok(names.length >= 10);
    for (const n of names) assert.ok(sources.includes(`"${n.replace(/_(bucket|count|sum)$/, "")}"`), `${n}: registered nowhere in src/`);
  });
});

function config(): ReturnType<typeof parseOk> {
  const cm = of("ConfigMap").find((c) => c.metadata.name === "ticketplane-config");
  return parseOk(cm?.data?.["ticketplane.yaml"] ?? "");
}

function parseOk(text: string): Extract<ReturnType<typeof parseConfigFile>, { ok: true }>["value"] {
  const r = parseConfigFile(text, "/etc/ticketplane/ticketplane.yaml");
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.apps.length, 0);
  return r.value;
}

function sourceText(): string {
  return readdirSync(join(ROOT, "src"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

