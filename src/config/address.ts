/**
 * `HOST:PORT` addresses: `IP:PORT`, `[IPv6]:PORT` or `host:port` for listen
 * addresses (port 0 = any free port), and `IPv4:PORT` or `[IPv6]:PORT` only
 * for pod backends (port 1–65535), which go to Envoy as EDS endpoints.
 */
import { isIP, isIPv4, isIPv6 } from "node:net";
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

export const POD_ADDRESS_RULE = 'must be "IPv4:PORT" or "[IPv6]:PORT" with a port 1–65535 (an IP address, not a host name: Envoy\'s EDS takes IP addresses only)';

/** A pod backend's address: an IP literal and a port 1–65535. Envoy resolves no host names in EDS endpoints. */
export function parsePodAddress(text: unknown): AddressResult {
  const parsed = parseHostPort(text);
  return parsed.ok && isIP(parsed.value.host) !== 0 ? parsed : { ok: false, rule: POD_ADDRESS_RULE };
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
