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

/** Parses `IP:PORT`, `[IPv6]:PORT` or `host:port`. `allowPortZero` is for listen addresses. */
export function parseHostPort(text: unknown, allowPortZero = false): AddressResult {
  const range = allowPortZero ? "0–65535, 0 = any free port" : "1–65535";
  const rule = `must be "IP:PORT", "[IPv6]:PORT" or "host:port" with a port ${range}`;
  if (typeof text !== "string") return { ok: false, rule };
  const split = text.startsWith("[") ? splitBracketed(text) : splitPlain(text);
  if (split === undefined) return { ok: false, rule };
  const [host, portText] = split;
  if (!/^\d{1,5}$/.test(portText)) return { ok: false, rule };
  const port = Number(portText);
  if (port > 65535 || (port === 0 && !allowPortZero)) return { ok: false, rule };
  return { ok: true, value: { host, port } };
}

/** Formats back to `host:port`, bracketing IPv6 literals (what grpc-js and Node's listen expect). */
export function formatHostPort(address: HostPort): string {
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** `[IPv6]:PORT` → [IPv6, PORT]. */
function splitBracketed(text: string): [string, string] | undefined {
  const close = text.indexOf("]:");
  if (close < 0) return undefined;
  const host = text.slice(1, close);
  return isIPv6(host) ? [host, text.slice(close + 2)] : undefined;
}

/** `IPv4:PORT` or `host:PORT` (exactly one colon; no wildcard hosts) → [host, PORT]. */
function splitPlain(text: string): [string, string] | undefined {
  const colon = text.lastIndexOf(":");
  if (colon <= 0 || text.indexOf(":") !== colon) return undefined;
  const host = text.slice(0, colon);
  if (host.startsWith("*.") || (!isIPv4(host) && checkHostName(host) !== undefined)) return undefined;
  return [host, text.slice(colon + 1)];
}
