import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TicketplaneError } from "../common/errors.js";
import { ERROR_CODES } from "../common/errors.js";
import { KubeApiServer } from "../../test/support/kube-api/server.js";
import { checkServer, loadConnection } from "./client.js";

function kubeconfig(contexts: { name: string; server: string; namespace?: string }[], current: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server } })),
    users: [{ name: "u", user: { token: "t" } }],
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: "u", ...(c.namespace === undefined ? {} : { namespace: c.namespace }) } })),
    "current-context": current,
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("kube client: loading the connection", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tp-kclient-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads --kubeconfig and its current context, or the --context named", async () => {
    const file = join(dir, "two");
    await writeFile(file, kubeconfig([{ name: "a", server: "https://a.example:6443", namespace: "shop" }, { name: "b", server: "https://b.example:6443" }], "a"));
    const a = loadConnection({ kubeconfig: file, env: {} });
    assert.deepEqual([a.server, a.context, a.namespace, a.source], ["https://a.example:6443", "a", "shop", `kubeconfig ${file}`]);
    const b = loadConnection({ kubeconfig: file, context: "b", env: {} });
    assert.deepEqual([b.server, b.context, b.namespace], ["https://b.example:6443", "b", undefined]);
  });

  it("names the contexts a kubeconfig has when --context names another", async () => {
    const file = join(dir, "one");
    await writeFile(file, kubeconfig([{ name: "a", server: "https://a.example:6443" }], "a"));
    assert.throws(() => loadConnection({ kubeconfig: file, context: "prod", env: {} }), (err: TicketplaneError) => err.code === ERROR_CODES.INVALID_CONFIG && /context "prod" is not in kubeconfig .*one \(it has: a\)/.test(err.message));
  });

  it("takes KUBECONFIG when no flag is given, and says so when there is no kubeconfig at all", async () => {
    const file = join(dir, "env");
    await writeFile(file, kubeconfig([{ name: "e", server: "https://e.example:6443" }], "e"));
    assert.equal(loadConnection({ env: { KUBECONFIG: file } }).server, "https://e.example:6443");
    assert.throws(() => loadConnection({ env: { HOME: join(dir, "nohome") } }), /no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG/);
    assert.throws(() => loadConnection({ kubeconfig: join(dir, "missing"), env: {} }), /kubeconfig .*missing does not exist/);
  });

  it("uses the in-cluster service account in a pod, unless a kubeconfig is named", async () => {
    const sa = join(dir, "sa");
    execFileSync("mkdir", ["-p", sa]);
    await writeFile(join(sa, "token"), "sa-token");
    await writeFile(join(sa, "namespace"), "ticketplane\n");
    await writeFile(join(sa, "ca.crt"), "");
    const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    const c = loadConnection({ env, serviceAccountDir: sa });
    assert.deepEqual([c.server, c.context, c.namespace], ["https://10.96.0.1:443", "in-cluster", "ticketplane"]);
    assert.match(c.source, /in-cluster service account/);
    const file = join(dir, "override");
    await writeFile(file, kubeconfig([{ name: "o", server: "https://o.example:6443" }], "o"));
    assert.equal(loadConnection({ env, serviceAccountDir: sa, kubeconfig: file }).server, "https://o.example:6443");
    // No token mounted: not a pod after all.
    assert.throws(() => loadConnection({ env: { ...env, HOME: join(dir, "nohome") }, serviceAccountDir: join(dir, "none") }), /no kubeconfig/);
  });
});

describe("kube client: the check at start (GET /version)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tp-kclient-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("resolves with the server's version when it answers", async () => {
    const api = await KubeApiServer.start();
    try {
      const connection = loadConnection({ kubeconfig: await api.writeKubeconfig(join(dir, "ok")), env: {} });
      assert.equal(connection.server, api.url);
      assert.match((await checkServer(connection)).gitVersion, /^v1\.32/);
    } finally {
      await api.close();
    }
  });

  it("connection refused: names the server, the context and the cause", async () => {
    const api = await KubeApiServer.start();
    const connection = loadConnection({ kubeconfig: await api.writeKubeconfig(join(dir, "refused")), env: {} });
    await api.close();
    await assert.rejects(checkServer(connection), (err: TicketplaneError) => {
      assert.equal(err.code, ERROR_CODES.UNAVAILABLE);
      assert.equal(err.context.server, api.url);
      assert.match(err.message, new RegExp(`^cannot use the Kubernetes API server ${api.url} \\(context test\\): connection refused`));
      return true;
    });
  });

  it("401 and 403: says the credentials are refused, with the server's message", async () => {
    for (const [code, reason, expected] of [
      [401, "Unauthorized", /401 Unauthorized: the server does not accept these credentials/],
      [403, "Forbidden", /403 Forbidden: the credentials are valid but may not do this \(version is forbidden\)/],
    ] as const) {
      const server = createServer((_req, res) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message: "version is forbidden" }));
      });
      const address = await listen(server);
      try {
        const file = join(dir, `auth-${code}`);
        await writeFile(file, kubeconfig([{ name: "x", server: `http://${address}` }], "x"));
        await assert.rejects(checkServer(loadConnection({ kubeconfig: file, env: {} })), (err: Error) => expected.test(err.message) && err.message.includes(address));
      } finally {
        server.close();
      }
    }
  });

  it("TLS: a certificate the kubeconfig does not trust is named as a TLS failure", async () => {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
    const server = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }, (_req, res) => res.end("{}"));
    const address = await listen(server);
    try {
      const file = join(dir, "tls");
      await writeFile(file, kubeconfig([{ name: "t", server: `https://${address}` }], "t"));
      await assert.rejects(checkServer(loadConnection({ kubeconfig: file, env: {} })), /cannot use the Kubernetes API server https:\/\/127\.0\.0\.1:\d+ \(context t\): TLS: /);
    } finally {
      server.close();
    }
  });
});
