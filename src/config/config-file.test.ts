import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SpecError } from "./app-spec.js";
import { parseConfigFile } from "./config-file.js";

function errorsOf(text: string): readonly SpecError[] {
  const r = parseConfigFile(text, "/etc/tp/config.yaml");
  assert.ok(!r.ok, "expected errors");
  return r.errors;
}

const FULL = `
listen: { authz: "127.0.0.1:0", xds: "[::1]:18000", accessLog: "0.0.0.0:9002", admin: "localhost:9090" }
gateway: { listenerPort: 10000, authzTimeout: 500ms, listenerAddress: "127.0.0.1" }
keys: { file: ./keys.yaml }
state: { file: /var/lib/tp/state.json }
cookieSecure: false
clientAddress: { trustedHops: 2 }
apps:
  - name: shiny
    namespace: default
    pathPrefix: /shiny/
    ticketsPerPod: 2
    pods:
      - { name: shiny-0, address: "127.0.0.1:3838", ready: true }
      - { name: shiny-1, address: "127.0.0.1:3839", ready: false }
  - name: notebook
    host: nb.example.com
    pathPrefix: /
    ticket: { cookieSecure: true, probation: 5s, connectionTimeout: 2m }
    limits: { ticketsPerClient: 2, queuePerClient: 0 }
`;

describe("parseConfigFile: the config document", () => {
  it("reads every top-level setting and the apps", () => {
    const r = parseConfigFile(FULL, "/etc/tp/config.yaml");
    assert.ok(r.ok, JSON.stringify(r));
    const c = r.value;
    assert.deepEqual(c.listen, {
      authz: { host: "127.0.0.1", port: 0 },
      xds: { host: "::1", port: 18000 },
      accessLog: { host: "0.0.0.0", port: 9002 },
      admin: { host: "localhost", port: 9090 },
    });
    assert.deepEqual(c.gateway, { listenerAddress: "127.0.0.1", listenerPort: 10000, authzTimeoutMs: 500 });
    assert.deepEqual(c.keys, { file: "/etc/tp/keys.yaml" });
    assert.deepEqual(c.state, { file: "/var/lib/tp/state.json" });
    assert.deepEqual(c.clientAddress, { trustedHops: 2 });
    assert.equal(c.filePath, "/etc/tp/config.yaml");
    assert.deepEqual(c.apps.map((a) => [a.name, a.source, a.ticket.cookieSecure]), [["shiny", "file", false], ["notebook", "file", true]]);
    assert.deepEqual(
      c.apps.map((a) => [a.ticket.probationMs, a.ticket.connectionTimeoutMs, a.limits]),
      [
        [10_000, 60_000, { ticketsPerClient: 20, queuePerClient: 20 }],
        [5000, 120_000, { ticketsPerClient: 2, queuePerClient: 0 }],
      ],
    );
    assert.deepEqual(c.pods["default/shiny"], [
      { name: "shiny-0", host: "127.0.0.1", port: 3838, ready: true },
      { name: "shiny-1", host: "127.0.0.1", port: 3839, ready: false },
    ]);
  });

  it("has documented defaults for everything but the apps", () => {
    const r = parseConfigFile("apps: []\n", "conf/standalone.yaml");
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      filePath: "conf/standalone.yaml",
      listen: {
        authz: { host: "127.0.0.1", port: 9001 },
        xds: { host: "127.0.0.1", port: 18000 },
        accessLog: { host: "127.0.0.1", port: 9002 },
        admin: { host: "127.0.0.1", port: 9090 },
      },
      gateway: { listenerAddress: "0.0.0.0", listenerPort: 8080, authzTimeoutMs: 250 },
      state: { file: "conf/standalone.state.json" },
      clientAddress: { trustedHops: 0 },
      apps: [],
      pods: {},
    });
  });

  it("accepts each config-file bound itself", () => {
    const r = parseConfigFile("gateway: { authzTimeout: 1m }\nclientAddress: { trustedHops: 10 }\napps: []\n", "c.yaml");
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual([r.value.gateway.authzTimeoutMs, r.value.clientAddress.trustedHops], [60_000, 10]);
  });

  for (const [server, address, port] of [["keda", "127.0.0.1:9003", 9003], ["resolver", "127.0.0.1:9006", 9006]] as const) {
    it(`serves ${server} only where listen.${server} is set`, () => {
      const r = parseConfigFile(`listen: { ${server}: "${address}" }\napps: []\n`, "c.yaml");
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.value.listen[server], { host: "127.0.0.1", port });
      const none = parseConfigFile("listen: {}\napps: []\n", "c.yaml");
      assert.ok(none.ok && none.value.listen[server] === undefined, JSON.stringify(none));
    });
  }

  it("an empty clientAddress keeps the default", () => {
    const r = parseConfigFile("clientAddress: {}\napps: []\n", "c.yaml");
    assert.ok(r.ok && r.value.clientAddress.trustedHops === 0, JSON.stringify(r));
  });

  it("joins relative key and state paths onto the config file's directory", () => {
    const r = parseConfigFile("keys: { file: k/keys.yaml }\nstate: { file: s.json }\napps: []\n", "a/b/c.yaml");
    assert.ok(r.ok);
    assert.deepEqual([r.value.keys?.file, r.value.state.file], ["a/b/k/keys.yaml", "a/b/s.json"]);
  });

  const bad: [string, string, SpecError[]][] = [
    ["listen address needs a port", 'listen: { authz: "127.0.0.1" }', [{ path: "listen.authz", value: "127.0.0.1", rule: 'must be "IP:PORT", "[IPv6]:PORT" or "host:port" with a port 0–65535, 0 = any free port' }]],
    ["listen.keda needs a port", 'listen: { keda: "127.0.0.1" }', [{ path: "listen.keda", value: "127.0.0.1", rule: 'must be "IP:PORT", "[IPv6]:PORT" or "host:port" with a port 0–65535, 0 = any free port' }]],
    ["unknown listen key", 'listen: { ads: "127.0.0.1:1" }', [{ path: "listen.ads", value: "127.0.0.1:1", rule: 'unknown field (did you mean "xds"?)' }]],
    ["gateway.listenerPort a port", "gateway: { listenerPort: 0 }", [{ path: "gateway.listenerPort", value: 0, rule: "must be an integer 1–65535" }]],
    ["gateway.authzTimeout > 0", "gateway: { authzTimeout: 0s }", [{ path: "gateway.authzTimeout", value: "0s", rule: "must be a duration greater than zero" }]],
    [
      "gateway.authzTimeout ≤ 1m",
      "gateway: { authzTimeout: 60001ms }",
      [{ path: "gateway.authzTimeout", value: "60001ms", rule: "must be ≤ 1m (Envoy holds each request this long when Check does not answer; Check answers in milliseconds)" }],
    ],
    ["clientAddress.trustedHops ≤ 10", "clientAddress: { trustedHops: 11 }", [{ path: "clientAddress.trustedHops", value: 11, rule: "must be ≤ 10 (more than ten proxies in front of the gateway is a mistake, not a network)" }]],
    ["clientAddress.trustedHops ≥ 0", "clientAddress: { trustedHops: -1 }", [{ path: "clientAddress.trustedHops", value: -1, rule: "must be an integer ≥ 0" }]],
    ["clientAddress.trustedHops an integer", "clientAddress: { trustedHops: 1.5 }", [{ path: "clientAddress.trustedHops", value: 1.5, rule: "must be an integer ≥ 0" }]],
    ["clientAddress.trustedHops a number, not a string", 'clientAddress: { trustedHops: "2" }', [{ path: "clientAddress.trustedHops", value: "2", rule: "must be an integer ≥ 0" }]],
    ["clientAddress a mapping", "clientAddress: 2", [{ path: "clientAddress", value: 2, rule: "must be a mapping, not a number" }]],
    ["unknown clientAddress key", "clientAddress: { hops: 1 }", [{ path: "clientAddress.hops", value: 1, rule: "unknown field" }]],
    ["keys.file required when keys is given", "keys: {}", [{ path: "keys.file", value: undefined, rule: "is required" }]],
    ["cookieSecure a boolean", "cookieSecure: 1", [{ path: "cookieSecure", value: 1, rule: "must be true or false" }]],
    ["apps a list", "apps: { shiny: {} }", [{ path: "apps", value: { shiny: {} }, rule: "must be a list of apps, not a mapping" }]],
    ["an app a mapping", "apps: [shiny]", [{ path: "apps[0]", value: "shiny", rule: "must be a mapping (an app), not a string" }]],
    ["unknown top-level key", "listn: {}\napps: []", [{ path: "listn", value: {}, rule: 'unknown field (did you mean "listen"?)' }]],
    [
      "app names unique per namespace",
      "apps:\n  - { name: a }\n  - { name: a, pathPrefix: /other/ }\n  - { name: a, namespace: b, pathPrefix: /b/ }",
      [{ path: "apps[1].name", value: "a", rule: 'must be unique in namespace "default" (also apps[0])' }],
    ],
    [
      "no two apps on the same host + pathPrefix",
      "apps:\n  - { name: a, pathPrefix: /x/ }\n  - { name: b, pathPrefix: /x/ }\n  - { name: c, pathPrefix: /x/, host: c.example.com }",
      [{ path: "apps[1].pathPrefix", value: "/x/", rule: "must differ from the pathPrefix of apps[0] (a) on every host" }],
    ],
    [
      "same host + pathPrefix, with a host",
      "apps:\n  - { name: a, host: h.io, pathPrefix: /x/ }\n  - { name: b, host: H.io, pathPrefix: /x/ }",
      [{ path: "apps[1].pathPrefix", value: "/x/", rule: 'must differ from the pathPrefix of apps[0] (a) on host "h.io"' }],
    ],
    ["an app's field errors carry its index", "apps:\n  - { name: a }\n  - { name: b, ticketsPerPod: 0 }", [{ path: "apps[1].ticketsPerPod", value: 0, rule: "must be an integer ≥ 1" }]],
  ];
  for (const [title, text, expected] of bad) it(title, () => assert.deepEqual(errorsOf(text), expected));

  it("reads an app's scaling section; a bad policy names the app's path", () => {
    const r = parseConfigFile("apps:\n  - name: a\n    scaling: { policy: hpa, metric: tickets, target: 3, tolerance: 0.05 }\n", "/etc/tp/config.yaml");
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.apps[0]?.scaling, { policy: "hpa", metric: "tickets", target: 3, increaseCooldownMs: 0, decreaseCooldownMs: 0, tolerance: 0.05 });
    assert.deepEqual(errorsOf("apps:\n  - name: a\n    scaling: { policy: HPA }\n").map((e) => [e.path, e.value]), [["apps[0].scaling.policy", "HPA"]]);
  });

  it("any error makes the whole file invalid (a bad edit changes nothing)", () => {
    const r = parseConfigFile("apps:\n  - { name: good }\n  - { name: bad, maxPods: 0 }\n", "c.yaml");
    assert.equal(r.ok, false);
  });

  it("an empty file is an error, not an empty config", () => {
    assert.deepEqual(errorsOf(""), [{ path: "", value: "", rule: "must not be empty (a config document, or TicketedApp/Deployment documents)" }]);
    assert.equal(errorsOf("# only a comment\n").length, 1);
  });

  it("reports YAML syntax errors with line and column, never throwing", () => {
    const e = errorsOf("apps:\n  - name: a\n   ticketsPerPod: 2\n");
    assert.match(e[0]?.path ?? "", /^line 3, column \d+$/);
  });

  it("rejects a top-level list or scalar", () => {
    assert.match(errorsOf("- a\n- b\n")[0]?.rule ?? "", /must be "TicketedApp" or "Deployment"/);
  });
});

describe("parseConfigFile: a stream of TicketedApp / Deployment documents", () => {
  const stream = `
apiVersion: ticketplane.dev/v1alpha1
kind: TicketedApp
metadata: { name: shiny }
spec: { ticketsPerPod: 2 }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gmweb
  labels: { k8sTicket: "true" }
  annotations: { ipb-halle.de/k8sticket.deployment.app: gmweb }
spec:
  template:
    metadata:
      labels: { ipb-halle.de/k8sticket.deployment.app: gmweb }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: old
  labels: { k8sTicket: "false" }
  annotations: { ipb-halle.de/k8sticket.deployment.app: old }
`;

  it("reads every app document; disabled Deployments add no app", () => {
    const r = parseConfigFile(stream, "apps.yaml");
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.apps.map((a) => [a.source, a.name, a.ticketsPerPod]), [["TicketedApp", "shiny", 2], ["k8sTicket", "gmweb", 1]]);
    assert.equal(r.value.listen.authz.port, 9001);
    assert.deepEqual(r.value.clientAddress, { trustedHops: 0 });
  });

  it("prefixes errors with the document index", () => {
    const text = stream.replace("ticketsPerPod: 2", "ticketsPerPod: 0").replace('app: gmweb }\nspec', 'app: gmweb, ipb-halle.de/k8sticket.deployment.maxPods: "x" }\nspec');
    assert.deepEqual(
      errorsOf(text).map((e) => e.path),
      ["documents[0].spec.ticketsPerPod", 'documents[1].metadata.annotations["ipb-halle.de/k8sticket.deployment.maxPods"]'],
    );
  });

  it("a Deployment without the k8sTicket label is an error in a file", () => {
    assert.deepEqual(errorsOf("apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\n"), [{ path: "documents[0]", value: "Deployment default/x", rule: 'no k8sTicket label (k8sTicket: "true")' }]);
  });

  it("other kinds and config documents inside a stream are errors", () => {
    const e = errorsOf("apiVersion: v1\nkind: Service\nmetadata: { name: x }\n---\napps: []\n");
    assert.deepEqual(
      e.map((x) => [x.path, x.rule]),
      [
        ["documents[0].kind", 'must be "TicketedApp" or "Deployment"'],
        ["documents[1]", "a config document (listen, apps, …) must be the only document in its file"],
      ],
    );
  });

  it("applies the cross-app rules across documents", () => {
    const e = errorsOf("kind: TicketedApp\napiVersion: ticketplane.dev/v1alpha1\nmetadata: { name: a }\n---\nkind: TicketedApp\napiVersion: ticketplane.dev/v1alpha1\nmetadata: { name: a }\n");
    assert.deepEqual(e, [{ path: "documents[1].metadata.name", value: "a", rule: 'must be unique in namespace "default" (also documents[0])' }]);
  });
});
