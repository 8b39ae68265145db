/**
 * ext_authz Check as Envoy calls it, through a client built from Envoy's own
 * .proto files, with a cookie jar per simulated browser.
 */
import type * as grpc from "@grpc/grpc-js";
import { authorizationClient } from "../support/envoy-protos.js";

interface WireHeader {
  header?: { key?: string; value?: string };
}
interface WireResponse {
  status?: { code?: number };
  ok_response?: { headers?: WireHeader[]; response_headers_to_add?: WireHeader[] };
  denied_response?: { status?: { code?: string }; headers?: WireHeader[]; body?: string };
}

export interface CheckResult {
  readonly kind: "ok" | "denied";
  /** Routing header on OK. */
  readonly pod?: string;
  readonly ticket?: string;
  /** Denied: HTTP status name ("ServiceUnavailable"). */
  readonly status?: string;
}

/** One browser: keeps the cookies the gateway set, sends them back. */
export class Browser {
  /** `cookies`: a jar to share (one user going through several replicas). */
  constructor(
    readonly client: grpc.Client,
    readonly name: string,
    readonly cookies = new Map<string, string>(),
  ) {}

  async get(path: string): Promise<CheckResult> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const http = { id: `${this.name}-${Date.now()}`, method: "GET", host: "127.0.0.1:10080", path, headers: cookie === "" ? {} : { cookie } };
    const res = await new Promise<WireResponse>((resolve, reject) => {
      (this.client as unknown as { Check: (r: unknown, o: grpc.CallOptions, cb: (e: Error | null, v: WireResponse) => void) => void }).Check(
        { attributes: { request: { http } } },
        { deadline: Date.now() + 10_000 },
        (err, value) => (err === null ? resolve(value) : reject(err)),
      );
    });
    const setCookies = [...(res.ok_response?.response_headers_to_add ?? []), ...(res.denied_response?.headers ?? [])].filter((h) => h.header?.key === "set-cookie").map((h) => h.header?.value ?? "");
    for (const c of setCookies) {
      const m = /^([^=]+)=([^;]*)/.exec(c);
      if (m?.[1] === undefined) continue;
      if (m[2] === undefined || m[2] === "" || /Max-Age=0/.test(c)) this.cookies.delete(m[1]);
      else this.cookies.set(m[1], m[2]);
    }
    if (res.ok_response !== undefined) {
      const header = (k: string): string | undefined => res.ok_response?.headers?.find((h) => h.header?.key === k)?.header?.value;
      return { kind: "ok", ...opt("pod", header("x-ticketplane-pod")), ...opt("ticket", header("x-ticketplane-ticket")) };
    }
    return { kind: "denied", ...opt("status", res.denied_response?.status?.code) };
  }
}

function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

export function checkClient(address: string): grpc.Client {
  return authorizationClient(address);
}

/** A CheckResponse as the proto-loaded client returns it (field names as in the .proto). */
export interface WireCheck {
  status?: { code?: number };
  ok_response?: { headers?: WireHeader[]; headers_to_remove?: string[]; response_headers_to_add?: WireHeader[] };
  denied_response?: { status?: { code?: string } };
}

/** Asks Check as an ingress gateway's ext_authz filter would (host apps.example.com, client 10.1.2.3), and returns the response as it came. */
export function checkRaw(client: grpc.Client, path: string, headers: Record<string, string>): Promise<WireCheck> {
  const http = { id: `req-${path}`, method: "GET", host: "apps.example.com", path, headers };
  return new Promise((resolve, reject) => {
    (client as unknown as { Check: (r: unknown, o: grpc.CallOptions, cb: (e: Error | null, v: WireCheck) => void) => void }).Check(
      { attributes: { request: { http }, source: { address: { socket_address: { address: "10.1.2.3", port_value: 5000 } } } } },
      { deadline: Date.now() + 10_000 },
      (err, value) => (err === null ? resolve(value) : reject(err)),
    );
  });
}

/** A header list as [name, value] pairs. */
export const headerPairs = (list: readonly WireHeader[] | undefined): [string, string][] => (list ?? []).map((h) => [h.header?.key ?? "", h.header?.value ?? ""]);

/** Check let the request through untouched: allowed, no header set, no cookie (an app at zero, on its way to the resolver). */
export function isUntouched(res: WireCheck): boolean {
  return (res.status?.code ?? 0) === 0 && res.ok_response !== undefined && headerPairs(res.ok_response.headers).length === 0 && headerPairs(res.ok_response.response_headers_to_add).length === 0;
}
