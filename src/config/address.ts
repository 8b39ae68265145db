/**
 * `HOST:PORT` addresses: `IP:PORT`, `[IPv6]:PORT` or `host:port`, for pod
 * backends (port 1–65535) and listen addresses (port 0 = any free port).
 */
import { isIPv4, isIPv6 } from "node:net";
import { checkHostName } from "./names.js";

export interface HostPort {
  /** IPv4/IPv6 literal (no brackets) or host name. */
  readonly host: string;
  readonly port: number;
}

export type AddressResult = { readonly ok: true; readonly value: HostPort } | { readonly ok: false; readonly rule: string };

export const PORT_RULE = "must be an integer port 1–65535";

/** Parses `IP:PORT`, `[IPv6]:PORT` or `host:port`. `allowPortZero` is for listen addresses. */
export function parseHostPort(text: unknown, allowPortZero = false): AddressResult {
  const range = allowPortZero ? "0–65535, 0 = any free port" : "1–65535";
  const rule = `must be "IP:PORT", "[IPv6]:PORT" or "host:port" with a port ${range}`;
  if (typeof text !== "string") return { ok: false, rule };
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]:");
    if (close < 0) return { ok: false, rule };
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!isIPv6(host)) return { ok: false, rule };
  } else {
    const colon = text.lastIndexOf(":");
    if (colon <= 0 || text.indexOf(":") !== colon) return { ok: false, rule };
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (!isIPv4(host) && checkHostName(host) !== undefined) return { ok: false, rule };
    if (host.startsWith("*.")) return { ok: false, rule };
  }
  if (!/^\d{1,5}$/.test(portText)) return { ok: false, rule };
  const port = Number(portText);
  if (port > 65535 || (port === 0 && !allowPortZero)) return { ok: false, rule };
  return { ok: true, value: { host, port } };
}

/** Formats back to `host:port`, bracketing IPv6 literals (what grpc-js and Node's listen expect). */
export function formatHostPort(address: HostPort): string {
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}
