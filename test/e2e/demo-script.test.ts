/**
 * scripts/demo.sh end to end, without a cluster: the real control plane
 * (`serve --config`, with `check.unmatched: allow` as deploy/config.yaml sets
 * it), a gateway client that ACKs its xDS (so pods become routable), two app
 * pods, and in front an HTTP ingress written here that does what the Istio
 * ingress gateway's ext_authz filter does: it asks the real Check over gRPC
 * (Envoy's own .proto) and forwards an allowed request, with the headers
 * Check set or removed, to the pod Check named — or answers the denial as
 * Check wrote it. demo.sh talks to that ingress with curl.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { authorizationClient } from "../support/envoy-protos.js";
import { runScript } from "../support/run-script.js";
import { waitFor } from "../support/wait-for.js";
import { RawGateway } from "./raw-gateway.js";
import { getJson, ROOT, ServeProcess, tempDir, type TempDir } from "./serve-process.js";

interface WireHeader {
  header?: { key?: string; value?: string };
}
interface WireCheck {
  ok_response?: { headers?: WireHeader[]; headers_to_remove?: string[]; response_headers_to_add?: WireHeader[] };
  denied_response?: { status?: { code?: string | number }; headers?: WireHeader[]; body?: string };
}

const STATUS: Record<string, number> = { ServiceUnavailable: 503, NotFound: 404, TooManyRequests: 429, BadRequest: 400, Forbidden: 403 };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An app pod: /whoami answers its own name; anything else echoes the x-ticketplane-* headers it received. */
function pod(name: string): Server {
  return createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    const ours = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith("x-ticketplane-")));
    res.end(JSON.stringify(req.url?.endsWith("/whoami") === true ? { pod: name } : { pod: name, headers: ours }) + "\n");
  });
}

/** The ingress: Check first, then the pod named by x-ticketplane-pod-address (or `fallback` for a request Check let through untouched). */
function ingress(check: grpc.Client, fallback: string): Server {
  const call = (req: IncomingMessage): Promise<WireCheck> =>
    new Promise((resolve, reject) => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
      const http = { id: String(Math.random()), method: req.method, host: req.headers.host ?? "", path: req.url ?? "/", headers };
      (check as unknown as { Check: (r: unknown, o: grpc.CallOptions, cb: (e: Error | null, v: WireCheck) => void) => void }).Check({ attributes: { request: { http } } }, { deadline: Date.now() + 10_000 }, (e, v) => (e === null ? resolve(v) : reject(e)));
    });
  const forward = (req: IncomingMessage, res: ServerResponse, ok: NonNullable<WireCheck["ok_response"]>): void => {
    const headers: Record<string, string | string[] | undefined> = { ...req.headers };
    for (const name of ok.headers_to_remove ?? []) delete headers[name];
    for (const h of ok.headers ?? []) if (h.header?.key !== undefined) headers[h.header.key] = h.header.value ?? "";
    const [host, port] = (typeof headers["x-ticketplane-pod-address"] === "string" ? headers["x-ticketplane-pod-address"] : fallback).split(":");
    const upstream = httpRequest({ host, port: Number(port), path: req.url, method: req.method, headers }, (up) => {
      const cookies = (ok.response_headers_to_add ?? []).filter((h) => h.header?.key === "set-cookie").map((h) => h.header?.value ?? "");
      res.writeHead(up.statusCode ?? 502, { ...up.headers, ...(cookies.length > 0 ? { "set-cookie": cookies } : {}) });
      up.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    upstream.end();
  };
  return createServer((req, res) => {
    call(req).then(
      (r) => {
        if (r.ok_response !== undefined) return forward(req, res, r.ok_response);
        const d = r.denied_response ?? {};
        const code = typeof d.status?.code === "number" ? d.status.code : (STATUS[d.status?.code ?? ""] ?? 403);
        const headers: Record<string, string[]> = {};
        for (const h of d.headers ?? []) if (h.header?.key !== undefined) (headers[h.header.key] ??= []).push(h.header.value ?? "");
        res.writeHead(code, headers).end(d.body ?? "");
      },
      () => res.writeHead(503).end("check failed\n"),
    );
  });
}

async function demo(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  const r = await runScript(join(ROOT, "scripts/demo.sh"), args, {}, 60_000);
  return { code: r.code, out: r.stdout + r.stderr };
}

describe("scripts/demo.sh through an ingress that calls the real Check", () => {
  let tmp: TempDir;
  let serve: ServeProcess;
  let gateway: RawGateway;
  let check: grpc.Client;
  const servers: Server[] = [];
  let front = "";
  let other = "";

  before(async () => {
    tmp = await tempDir();
    const pods = [pod("demo-a"), pod("demo-b")];
    const otherApp = pod("not-ticketed");
    servers.push(...pods, otherApp);
    const [a, b] = await Promise.all(pods.map(listen));
    other = await listen(otherApp);
    const config = await tmp.write(
      "demo.yaml",
      `listen: { authz: "127.0.0.1:0", xds: "127.0.0.1:0", accessLog: "127.0.0.1:0", admin: "127.0.0.1:0" }
cookieSecure: false
check: { unmatched: allow }
apps:
  - name: demo
    host: demo.ticketplane.local
    pathPrefix: /demo/
    ticketsPerPod: 1
    maxPods: 2
    queue: { maxLength: 10, retryAfter: 5s }
    pods:
      - { name: demo-a, address: "${a}", ready: true }
      - { name: demo-b, address: "${b}", ready: true }
`,
    );
    serve = await new ServeProcess(["serve", "--config", config]).listening();
    gateway = new RawGateway(serve.addresses.xds ?? "");
    await waitFor(() => gateway.podsFor("/demo/").length === 2, { what: "the gateway's routes to both pods" });
    await waitFor(async () => ((await getJson(`${serve.admin}/api/apps`)).body as { apps: { pods: { serving: boolean }[] }[] }).apps[0]?.pods.filter((p) => p.serving).length === 2, { what: "two serving pods" });
    check = authorizationClient(serve.addresses.authz ?? "");
    const edge = ingress(check, other);
    servers.push(edge);
    front = await listen(edge);
  });

  after(async () => {
    check?.close();
    gateway?.close();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await serve?.kill();
    await tmp?.remove();
  });

  it("a ticket, the same pod three times, then the waiting room, each with what it proves", async () => {
    const r = await demo(["--ingress", front, "--users", "3"]);
    assert.equal(r.code, 0, r.out);
    const first = /GET .* -> 200, pod (demo-[ab])/.exec(r.out)?.[1];
    assert.ok(first !== undefined, r.out);
    assert.match(r.out, /set-cookie: ticketplane=/i);
    assert.equal(r.out.match(new RegExp(`request \\d -> 200, pod ${first}`, "g"))?.length, 3, r.out);
    assert.match(r.out, /user1 -> 200, pod demo-[ab]/);
    assert.match(r.out, /user2 -> 503 \(waiting room\)/, "two pods, one slot each: the third user waits");
    assert.match(r.out, /retry-after: \d+\n/i);
    assert.equal(r.out.match(/proves: /g)?.length, 3);
  });

  it("with check.unmatched: allow, a request of no ticketed app passes, and our headers the client sent never reach it", async () => {
    const res = await fetch(`http://${front}/elsewhere/`, { headers: { "x-ticketplane-cluster": "ticketplane-xds", "x-ticketplane-pod-address": "10.0.0.1:1" } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { pod: "not-ticketed", headers: {} });
  });

  it("says how to reach the ingress when it is not given and cannot be found", async () => {
    const r = await demo(["--users", "x"]);
    assert.equal(r.code, 2);
    assert.match(r.out, /--users must be a number/);
    const unreachable = await demo(["--ingress", "127.0.0.1:1"]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.out, /cannot reach http:\/\/127\.0\.0\.1:1\/demo\/whoami/);
  });
});
