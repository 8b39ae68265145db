/**
 * Calling Check as Envoy's ext_authz filter does: the CheckRequest it builds
 * from a downstream request (pure), and the gRPC call with the filter's
 * timeout and initial metadata (`envoy.service.auth.v3.Authorization/Check`).
 *
 * The request carries what the filter sends: `attributes.request.http` with
 * the request id, method, `:path` (query included), host (`:authority`),
 * scheme, protocol, size and every header lower-cased, repeated headers
 * joined with "," (the pseudo-headers included, as Envoy's map has them);
 * `attributes.source` and `destination` with the connection's addresses;
 * `request.time`.
 */
import * as grpc from "@grpc/grpc-js";
import { AuthorizationClient, CheckRequest, type CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { type HeaderList, joinedValue } from "./header-mutation.js";
import type { ExtAuthzSettings } from "./resources.js";

/** A downstream request as the filter sees it. */
export interface DownstreamRequest {
  readonly method: string;
  /** `:path`, query included. */
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  /** "HTTP/1.1". */
  readonly protocol: string;
  readonly requestId: string;
  /** Lower-case names, pseudo-headers excluded. */
  readonly headers: HeaderList;
  readonly source: { readonly address: string; readonly port: number };
  readonly destination: { readonly address: string; readonly port: number };
}

function socket(address: string, port: number): { socketAddress: { address: string; portValue: number } } {
  return { socketAddress: { address, portValue: port } };
}

export function buildCheckRequest(request: DownstreamRequest, now: number): CheckRequest {
  const headers: Record<string, string> = { ":authority": request.authority, ":method": request.method, ":path": request.path, ":scheme": request.scheme };
  for (const [name, values] of request.headers) headers[name] = joinedValue(values);
  const length = Number(request.headers.get("content-length")?.[0] ?? "0");
  return CheckRequest.fromPartial({
    attributes: {
      source: { address: socket(request.source.address, request.source.port) },
      destination: { address: socket(request.destination.address, request.destination.port) },
      request: {
        time: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1_000_000 },
        http: {
          id: request.requestId,
          method: request.method,
          headers,
          path: request.path,
          host: request.authority,
          scheme: request.scheme,
          protocol: request.protocol,
          size: Number.isFinite(length) ? length : -1,
        },
      },
    },
  });
}

/** What came of one Check call: a response, or why there is none (error, timeout, unreachable). */
export type CheckResult = { readonly kind: "response"; readonly response: CheckResponse } | { readonly kind: "error"; readonly reason: string };

/** Check calls, one channel per target; a target that changes (the authz cluster moved) gets a new channel. */
export class CheckCaller {
  readonly #clients = new Map<string, AuthorizationClient>();

  /** Calls Check at `target` (`host:port`) with the filter's timeout and metadata. Never rejects. */
  check(target: string, settings: ExtAuthzSettings, request: CheckRequest): Promise<CheckResult> {
    const client = this.#client(target);
    const metadata = new grpc.Metadata();
    for (const h of settings.metadata) metadata.add(h.key, h.value.length > 0 ? h.value : Buffer.from(h.rawValue).toString("utf8"));
    // grpc-js enforces deadlines on its own (real) timers against wall time, so the deadline is wall time too.
    const deadline = new Date(Date.now() + settings.timeoutMs);
    return new Promise((resolve) => {
      client.check(request, metadata, { deadline }, (err, response) => {
        if (err !== null) resolve({ kind: "error", reason: `${grpc.status[err.code] ?? String(err.code)}: ${err.details}` });
        else resolve({ kind: "response", response });
      });
    });
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  #client(target: string): AuthorizationClient {
    let client = this.#clients.get(target);
    if (client === undefined) {
      // One target at a time in practice: close channels to targets no longer used.
      this.close();
      client = new AuthorizationClient(target, grpc.credentials.createInsecure());
      this.#clients.set(target, client);
    }
    return client;
  }
}
