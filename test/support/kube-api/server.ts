/**
 * A test Kubernetes API server: real HTTP on 127.0.0.1 (port 0 by default),
 * in memory, serving the kinds of `kinds.ts` with the semantics of
 * `store.ts`, watches as chunked newline-delimited JSON, discovery and
 * OpenAPI for kubectl, and fault injection for tests (methods on the server
 * object, never HTTP). Not a conformance-tested server: see README.md.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { aggregatedDiscovery, aggregatedVersionAccepted, apiGroup, apiGroupList, apiVersions, resourceList, versionInfo } from "./discovery.ts";
import type { ServerVersion } from "./discovery.ts";
import { apiVersionOf } from "./kinds.ts";
import type { KindSpec, KObject } from "./kinds.ts";
import { OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_CONTENT_TYPE, openApiV2, openApiV3GroupVersion, openApiV3Root } from "./openapi.ts";
import { jsonPatch, mergePatch } from "./patch.ts";
import { ObjectStore } from "./store.ts";
import type { DeleteOptions, PatchType, StoreOptions } from "./store.ts";
import { ApiError, errors, successStatus } from "./status.ts";
import { toTable, wantsTable } from "./table.ts";
import { WatchStream } from "./watch.ts";

export interface KubeApiServerOptions extends StoreOptions {
  readonly port?: number;
  /** What `/version` reports; kubectl's dispatcher (`/usr/bin/kubectl`) picks its client version from it. Default 1.32. */
  readonly version?: ServerVersion;
  /** Serve aggregated discovery when asked for it (default true); false makes clients fall back to the legacy endpoints. */
  readonly aggregatedDiscovery?: boolean;
  /** How often a watch that allows bookmarks gets one (default 1 s; the real server: about a minute). */
  readonly bookmarkIntervalMs?: number;
  /** A watch's length when the client names no timeoutSeconds (default 1800 s, as the real server's minimum). */
  readonly watchTimeoutSeconds?: number;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly userAgent: string | undefined;
  /** The bearer token the client sent (a kubeconfig per client tells clients apart: `kubeconfig(ns, token)`). */
  readonly client: string | undefined;
  status: number;
}

export interface InjectedFailure {
  /** 500 (InternalError) or 429 (TooManyRequests, with Retry-After). */
  readonly status: 500 | 429;
  /** Only requests to this path (exact, without the query) or matching this pattern; default every request. */
  readonly path?: string | RegExp;
  readonly method?: string;
  /** Retry-After for 429 (default 1). */
  readonly retryAfterSeconds?: number;
}

/** One request to a resource, as the handlers below need it. */
interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly q: URLSearchParams;
  readonly method: string;
  readonly table: string | undefined;
  readonly write: { readonly manager: string; readonly dryRun: boolean; readonly subresource?: string };
  readonly answer: (code: number, obj: KObject) => void;
}

interface Target {
  readonly kind: KindSpec;
  readonly namespace: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly watchPath: boolean;
}

const PATCH_TYPES: Readonly<Record<string, PatchType>> = {
  "application/merge-patch+json": "merge",
  "application/json-patch+json": "json",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
};

const MAX_BODY = 3 * 1024 * 1024;

export class KubeApiServer {
  readonly store: ObjectStore;
  /** Every request answered, in order (method, path, query, headers that matter, status); the first 10,000 only. */
  readonly requests: RequestRecord[] = [];
  readonly #requestListeners = new Set<(record: RequestRecord) => void>();
  readonly #http: Server;
  readonly #options: KubeApiServerOptions;
  readonly #sockets = new Set<Socket>();
  /** Which client (bearer token) last used each connection, for partitions. */
  readonly #socketClients = new Map<Socket, string>();
  readonly #partitioned = new Set<string>();
  readonly #watches = new Set<WatchStream>();
  #failures: { spec: InjectedFailure; left: number }[] = [];
  #port = 0;
  #paused = false;
  #closed = false;

  private constructor(options: KubeApiServerOptions) {
    this.#options = options;
    this.store = new ObjectStore(options);
    this.#http = createServer((req, res) => this.#handle(req, res));
    this.#http.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => {
        this.#sockets.delete(socket);
        this.#socketClients.delete(socket);
      });
    });
  }

  static async start(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
    const server = new KubeApiServer(options);
    await server.#listen(options.port ?? 0);
    return server;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /**
   * Calls `listener` with every request as it arrives (before it is answered
   * or failed by injection; `status` is set once the response finishes), with
   * no cap: for harnesses that watch a long run, such as the RBAC recorder.
   * Returns the function that removes the listener.
   */
  onRequest(listener: (record: RequestRecord) => void): () => void {
    const own = (r: RequestRecord): void => listener(r);
    this.#requestListeners.add(own);
    return () => {
      this.#requestListeners.delete(own);
    };
  }

  /** Watches still open (stalled ones included). */
  get openWatches(): number {
    return this.#watches.size;
  }

  /** A kubeconfig (YAML) whose current context points at this server, in `namespace`. */
  kubeconfig(namespace = "default", token = "test-token"): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: test",
      "  cluster:",
      `    server: ${this.url}`,
      "users:",
      "- name: test",
      "  user:",
      `    token: ${token}`,
      "contexts:",
      "- name: test",
      "  context:",
      "    cluster: test",
      "    user: test",
      `    namespace: ${namespace}`,
      "current-context: test",
      "",
    ].join("\n");
  }

  /** Writes `kubeconfig()` to `path` (default: a new temporary directory) and returns the path. */
  async writeKubeconfig(path?: string, namespace?: string, token?: string): Promise<string> {
    const file = path ?? join(await mkdtemp(join(tmpdir(), "kube-api-")), "kubeconfig");
    await writeFile(file, this.kubeconfig(namespace, token), { mode: 0o600 });
    return file;
  }

  // ---- fault injection -------------------------------------------------

  /** Ends every open watch as the server does at a watch timeout (a clean end of the chunked response); `abrupt` resets the connections instead. Returns how many. */
  dropWatches(options: { abrupt?: boolean } = {}): number {
    const watches = [...this.#watches];
    for (const w of watches) w.end(options.abrupt === true);
    return watches.length;
  }

  /** Every open watch goes silent: kept open, delivering nothing (no events, bookmarks or timeout) until dropped or the server closes. Returns how many. */
  stallWatches(): number {
    for (const w of this.#watches) w.stall();
    return this.#watches.size;
  }

  /** The next `count` requests (matching `path`/`method`, if given) are answered with `status`. */
  failNext(count: number, failure: InjectedFailure): void {
    this.#failures.push({ spec: failure, left: count });
  }

  /**
   * A partition: the API server becomes unreachable for the client that
   * sends bearer `token` (its connections are reset, open watches included,
   * and every later request of it too) while every other client is served.
   */
  partition(token: string): void {
    this.#partitioned.add(token);
    for (const [socket, client] of this.#socketClients) if (client === token) socket.destroy();
  }

  /** Ends a partition: the client is served again. */
  heal(token: string): void {
    this.#partitioned.delete(token);
  }

  /** Forgets every failure failNext queued that has not happened yet. */
  clearFailures(): void {
    this.#failures = [];
  }

  /**
   * What an API server restart looks like to clients: every open watch and
   * connection is cut and the history is gone, so a watch or an exact list
   * from any earlier resourceVersion gets 410 Gone. Objects stay.
   */
  restart(): void {
    this.dropWatches({ abrupt: true });
    this.store.compact();
    for (const s of this.#sockets) s.destroy();
  }

  /** Stops listening and cuts every connection: connection refused until resume(). */
  async pause(): Promise<void> {
    if (this.#paused) return;
    this.#paused = true;
    this.dropWatches({ abrupt: true });
    await this.#stopListening();
  }

  /** Listens again on the same port. */
  async resume(): Promise<void> {
    if (!this.#paused) return;
    await this.#listen(this.#port);
    this.#paused = false;
  }

  /** Ends every watch and connection and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.dropWatches({ abrupt: true });
    if (!this.#paused) await this.#stopListening();
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once("error", reject);
      this.#http.listen({ port, host: "127.0.0.1" }, () => {
        this.#http.off("error", reject);
        resolve();
      });
    });
    const address = this.#http.address();
    if (address !== null && typeof address === "object") this.#port = address.port;
  }

  async #stopListening(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#http.closeAllConnections();
    await closed;
  }

  // ---- requests ----------------------------------------------------------

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const client = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (client !== undefined) {
      this.#socketClients.set(req.socket, client);
      if (this.#partitioned.has(client)) {
        req.socket.destroy();
        return;
      }
    }
    const record: RequestRecord = { method: req.method ?? "GET", path: url.pathname, query: url.search, contentType: req.headers["content-type"], accept: req.headers.accept, userAgent: req.headers["user-agent"], client, status: 0 };
    if (this.requests.length < 10_000) this.requests.push(record);
    for (const listener of this.#requestListeners) listener(record);
    res.on("finish", () => (record.status = res.statusCode));
    const injected = this.#injectedFailure(record);
    if (injected !== undefined) {
      this.#sendError(res, injected);
      return;
    }
    this.#route(req, res, url).catch((err: unknown) => this.#sendError(res, err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err))));
  }

  #injectedFailure(r: RequestRecord): ApiError | undefined {
    const at = this.#failures.findIndex(({ spec }) => (spec.method === undefined || spec.method === r.method) && (spec.path === undefined || (typeof spec.path === "string" ? spec.path === r.path : spec.path.test(r.path))));
    const f = this.#failures[at];
    if (f === undefined) return undefined;
    if (--f.left <= 0) this.#failures.splice(at, 1);
    return f.spec.status === 429 ? errors.tooManyRequests(f.spec.retryAfterSeconds ?? 1) : errors.internal("injected fault");
  }

  #send(res: ServerResponse, code: number, body: unknown, contentType = "application/json"): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-cache, private" });
    res.end(text);
  }

  get #version(): ServerVersion {
    return this.#options.version ?? { major: "1", minor: "32", gitVersion: "v1.32.0" };
  }

  #sendError(res: ServerResponse, err: ApiError): void {
    if (err.code === 429) res.setHeader("Retry-After", String(err.details?.retryAfterSeconds ?? 1));
    this.#send(res, err.code, err.toStatus());
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method === "GET" || req.method === "HEAD") {
      const doc = this.#document(url.pathname.replace(/\/+$/, ""), req.headers.accept);
      if (doc !== undefined) return this.#sendDocument(res, doc);
    }
    const target = this.#target(url.pathname.split("/").filter((s) => s !== ""));
    if (target === undefined) return this.#sendError(res, new ApiError(404, "NotFound", "the server could not find the requested resource", { causes: [{ reason: "UnexpectedServerResponse", message: "404 page not found" }] }));
    await this.#serveResource(req, res, url, target);
  }

  /** The documents that are not objects: version, health, discovery, OpenAPI. */
  #document(path: string, accept: string | undefined): { body: unknown; contentType?: string } | undefined {
    const kinds = this.store.kinds;
    const segs = path.split("/").filter((s) => s !== "");
    if (path === "/version") return { body: versionInfo(this.#version) };
    if (path === "/healthz" || path === "/readyz" || path === "/livez") return { body: "ok", contentType: "text/plain" };
    if (path === "/api" || path === "/apis") {
      const aggregated = this.#options.aggregatedDiscovery === false ? undefined : aggregatedVersionAccepted(accept);
      if (aggregated !== undefined) return { body: aggregatedDiscovery(kinds, path === "/api", aggregated.version), contentType: aggregated.mediaType };
      return { body: path === "/api" ? apiVersions(`127.0.0.1:${this.#port}`) : apiGroupList(kinds) };
    }
    if (path === "/openapi/v2") {
      const protobuf = accept?.includes(OPENAPI_V2_PROTOBUF) === true;
      return { body: openApiV2(this.#version.gitVersion, protobuf), ...(protobuf ? { contentType: OPENAPI_V2_PROTOBUF_CONTENT_TYPE } : {}) };
    }
    if (segs[0] === "openapi" && segs[1] === "v3") return optionalDoc(segs.length === 2 ? openApiV3Root(kinds) : openApiV3GroupVersion(kinds, segs.slice(2).join("/")));
    if (segs[0] === "apis" && segs.length === 2) return optionalDoc(apiGroup(kinds, segs[1] ?? ""));
    if (segs[0] === "api" && segs.length === 2) return optionalDoc(resourceList(kinds, "", segs[1] ?? ""));
    if (segs[0] === "apis" && segs.length === 3) return optionalDoc(resourceList(kinds, segs[1] ?? "", segs[2] ?? ""));
    return undefined;
  }

  #sendDocument(res: ServerResponse, doc: { body: unknown; contentType?: string }): void {
    if (typeof doc.body === "string" || Buffer.isBuffer(doc.body)) {
      res.writeHead(200, { "Content-Type": doc.contentType ?? "application/octet-stream", "Content-Length": Buffer.byteLength(doc.body) });
      res.end(doc.body);
    } else this.#send(res, 200, doc.body, doc.contentType);
  }

  /** `/api/v1/…` or `/apis/<group>/<version>/…` → kind, namespace, name, subresource. */
  #target(segs: readonly string[]): Target | undefined {
    const core = segs[0] === "api";
    if (!core && segs[0] !== "apis") return undefined;
    const group = core ? "" : (segs[1] ?? "");
    const version = core ? (segs[1] ?? "") : (segs[2] ?? "");
    let rest = segs.slice(core ? 2 : 3);
    const watchPath = rest[0] === "watch";
    if (watchPath) rest = rest.slice(1);
    const namespacedPlural = rest[0] === "namespaces" && rest.length >= 3 ? this.store.kindOf(group, version, rest[2] ?? "") : undefined;
    if (namespacedPlural?.namespaced === true) {
      if (rest.length > 5) return undefined;
      return { kind: namespacedPlural, namespace: rest[1] ?? "", watchPath, ...(rest[3] === undefined ? {} : { name: rest[3] }), ...(rest[4] === undefined ? {} : { subresource: rest[4] }) };
    }
    const kind = this.store.kindOf(group, version, rest[0] ?? "");
    if (kind === undefined || rest.length > 3) return undefined;
    return { kind, namespace: "", watchPath, ...(rest[1] === undefined ? {} : { name: rest[1] }), ...(rest[2] === undefined ? {} : { subresource: rest[2] }) };
  }

  async #serveResource(req: IncomingMessage, res: ServerResponse, url: URL, t: Target): Promise<void> {
    const { kind } = t;
    if (t.subresource !== undefined && !((t.subresource === "status" && kind.status === true) || (t.subresource === "scale" && kind.scale !== undefined))) {
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    }
    const q = url.searchParams;
    const table = wantsTable(req.headers.accept);
    const call: Call = {
      req,
      res,
      q,
      method: req.method ?? "GET",
      table,
      write: { manager: q.get("fieldManager") ?? defaultManager(req.headers["user-agent"]), dryRun: q.get("dryRun") === "All", ...(t.subresource === undefined ? {} : { subresource: t.subresource }) },
      answer: (code, obj) => this.#send(res, code, table !== undefined && obj.kind !== "Status" ? toTable(kind, [obj], table, q.get("includeObject")) : obj),
    };
    if (t.name === undefined) return this.#collection(call, t);
    if (t.subresource === "scale") return this.#scale(call, t, t.name);
    return this.#object(call, t, t.name);
  }

  async #collection(c: Call, t: Target): Promise<void> {
    const { kind } = t;
    if (c.method === "GET") return t.watchPath || c.q.get("watch") === "true" || c.q.get("watch") === "1" ? this.#watch(c.res, t, c.q, c.table) : this.#list(c.res, t, c.q, c.table);
    if (c.method === "POST") {
      if (kind.namespaced && t.namespace === "") throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
      return c.answer(201, this.store.create(kind, t.namespace, await readBody(c.req, "create"), c.write));
    }
    if (c.method !== "DELETE") throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
    const items = this.store.deleteCollection({ kind, namespace: t.namespace, labelSelector: c.q.get("labelSelector"), fieldSelector: c.q.get("fieldSelector") }, deleteOptions(c.q, await readOptionalBody(c.req), c.write.dryRun));
    this.#send(c.res, 200, listOf(kind, items.map((o) => itemFor(kind, o)), this.store.resourceVersion));
  }

  async #scale(c: Call, t: Target, name: string): Promise<void> {
    if (c.method === "GET") return this.#send(c.res, 200, this.store.getScale(t.kind, t.namespace, name));
    if (c.method !== "PUT" && c.method !== "PATCH") throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
    const type = c.method === "PATCH" ? patchType(c.req.headers["content-type"]) : undefined;
    const body = await readBody(c.req, c.method === "PUT" ? "update" : "patch");
    const write = (scale: KObject) => (type === undefined ? body : type === "json" ? jsonPatch(scale, body) : mergePatch(scale, body));
    this.#send(c.res, 200, this.store.writeScale(t.kind, t.namespace, name, write, c.write));
  }

  async #object(c: Call, t: Target, name: string): Promise<void> {
    const { kind, namespace } = t;
    switch (c.method) {
      case "GET":
        return c.answer(200, this.store.get(kind, namespace, name));
      case "PUT":
        return c.answer(200, this.store.update(kind, namespace, name, await readBody(c.req, "update"), c.write));
      case "PATCH": {
        const type = patchType(c.req.headers["content-type"]);
        const existed = this.store.find(kind, namespace, name) !== undefined;
        // Apply names its manager itself (400 without one); other writes default to the client's user agent.
        const manager = type === "apply" ? (c.q.get("fieldManager") ?? "") : c.write.manager;
        const out = this.store.patch(kind, namespace, name, type, await readBody(c.req, "patch", type === "apply"), { ...c.write, manager, force: c.q.get("force") === "true" });
        return c.answer(existed ? 200 : 201, out);
      }
      case "DELETE": {
        const { object, gone } = this.store.delete(kind, namespace, name, deleteOptions(c.q, await readOptionalBody(c.req), c.write.dryRun));
        if (gone && kind.custom !== true) return this.#send(c.res, 200, successStatus({ name, group: kind.group, kind: kind.plural, uid: object.metadata?.uid ?? "" }));
        return c.answer(200, object);
      }
      default:
        throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
    }
  }

  #list(res: ServerResponse, t: Target, q: URLSearchParams, table: string | undefined): void {
    const limit = q.get("limit");
    const result = this.store.list(
      { kind: t.kind, namespace: t.namespace, labelSelector: q.get("labelSelector"), fieldSelector: q.get("fieldSelector") },
      { ...(limit === null ? {} : { limit: Number(limit) }), continue: q.get("continue"), resourceVersion: q.get("resourceVersion"), resourceVersionMatch: q.get("resourceVersionMatch") },
    );
    const listMeta = { resourceVersion: String(result.resourceVersion), ...(result.continue === undefined ? {} : { continue: result.continue }), ...(result.remainingItemCount === undefined ? {} : { remainingItemCount: result.remainingItemCount }) };
    if (table !== undefined) return this.#send(res, 200, { ...toTable(t.kind, result.items, table, q.get("includeObject")), metadata: listMeta });
    this.#send(res, 200, { ...listOf(t.kind, result.items.map((o) => itemFor(t.kind, o)), result.resourceVersion), metadata: listMeta });
  }

  #watch(res: ServerResponse, t: Target, q: URLSearchParams, table: string | undefined): void {
    const timeout = q.get("timeoutSeconds");
    const stream = new WatchStream(this.store, res, {
      filter: { kind: t.kind, namespace: t.namespace, labelSelector: q.get("labelSelector"), fieldSelector: q.get("fieldSelector") },
      resourceVersion: q.get("resourceVersion") ?? "",
      resourceVersionMatch: q.get("resourceVersionMatch") ?? "",
      sendInitialEvents: q.get("sendInitialEvents") === "true",
      allowBookmarks: q.get("allowWatchBookmarks") === "true",
      bookmarkIntervalMs: this.#options.bookmarkIntervalMs ?? 1000,
      timeoutMs: (timeout === null ? (this.#options.watchTimeoutSeconds ?? 1800) : Number(timeout)) * 1000,
      ...(table === undefined ? {} : { render: (o: KObject) => toTable(t.kind, [o], table, q.get("includeObject")) }),
    });
    this.#watches.add(stream);
    stream.closed.then(
      () => this.#watches.delete(stream),
      () => this.#watches.delete(stream),
    );
    stream.start();
  }
}

function optionalDoc(body: Record<string, unknown> | undefined): { body: unknown } | undefined {
  return body === undefined ? undefined : { body };
}

function defaultManager(userAgent: string | undefined): string {
  return (userAgent ?? "unknown").split("/")[0] ?? "unknown";
}

function patchType(contentType: string | undefined): PatchType {
  const mediaType = (contentType ?? "").split(";")[0]?.trim() ?? "";
  const type = PATCH_TYPES[mediaType];
  if (type === undefined) throw errors.unsupportedMediaType(mediaType, Object.keys(PATCH_TYPES));
  return type;
}

/** Built-in kinds' list items carry no kind/apiVersion (as the real server serializes them); custom resources' do. */
function itemFor(kind: KindSpec, obj: KObject): KObject {
  if (kind.custom === true) return obj;
  const { kind: _k, apiVersion: _a, ...rest } = obj;
  return rest;
}

function listOf(kind: KindSpec, items: KObject[], rv: number): KObject {
  return { kind: `${kind.kind}List`, apiVersion: apiVersionOf(kind), metadata: { resourceVersion: String(rv) }, items };
}

function deleteOptions(q: URLSearchParams, body: unknown, dryRun = false): DeleteOptions {
  const b = (body ?? {}) as { propagationPolicy?: DeleteOptions["propagationPolicy"]; preconditions?: DeleteOptions["preconditions"]; orphanDependents?: boolean; dryRun?: string[] };
  const policy = (q.get("propagationPolicy") as DeleteOptions["propagationPolicy"] | null) ?? b.propagationPolicy ?? (b.orphanDependents === true ? "Orphan" : undefined);
  return { ...(policy === undefined ? {} : { propagationPolicy: policy }), ...(b.preconditions === undefined ? {} : { preconditions: b.preconditions }), dryRun: dryRun || (b.dryRun?.includes("All") ?? false) };
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, "RequestEntityTooLarge", "the request body is too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readBody(req: IncomingMessage, verb: string, yaml = false): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "application/json").split(";")[0]?.trim() ?? "";
  if (type.includes("protobuf") || type.includes("cbor")) throw errors.unsupportedMediaType(type, ["application/json", "application/yaml", ...Object.keys(PATCH_TYPES)]);
  const text = await readText(req);
  if (text.trim() === "") throw errors.badRequest(`the body of the ${verb} request is empty`);
  try {
    return yaml || type === "application/yaml" ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (err) {
    throw errors.badRequest(`the body of the ${verb} request could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function readOptionalBody(req: IncomingMessage): Promise<unknown> {
  const text = await readText(req);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw errors.badRequest("the DeleteOptions body could not be decoded");
  }
}
