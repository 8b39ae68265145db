/**
 * Small value builders shared by the per-type files: durations, Anys, ADS
 * config sources, socket addresses, and the validation result shape.
 */
import { Any } from "@envoyproxy/protos/google/protobuf/any";
import type { Duration } from "@envoyproxy/protos/google/protobuf/duration";
import { ApiVersion, type ConfigSource } from "@envoyproxy/protos/envoy/config/core/v3/config_source";
import type { Address } from "@envoyproxy/protos/envoy/config/core/v3/address";

/** A Duration from milliseconds (whole, non-negative). `duration(0)` is an explicit zero, not an absent field. */
export function duration(ms: number): Duration {
  const whole = Math.max(0, Math.round(ms));
  return { seconds: Math.floor(whole / 1000), nanos: (whole % 1000) * 1_000_000 };
}

/** Milliseconds of a Duration (for validators and tests). */
export function durationMs(d: Duration): number {
  return d.seconds * 1000 + d.nanos / 1_000_000;
}

/** Packs an encoded message into a `google.protobuf.Any`. */
export function packAny(typeUrl: string, encoded: Uint8Array): Any {
  return Any.fromPartial({ typeUrl, value: Buffer.from(encoded) });
}

/** `{ ads: {}, resource_api_version: V3 }`: fetch over the bootstrap's ADS stream. */
export function adsConfigSource(): ConfigSource {
  return { authorities: [], ads: {}, resourceApiVersion: ApiVersion.V3 };
}

export function socketAddress(host: string, port: number): Address {
  return { socketAddress: { protocol: 0, address: host, portValue: port, resolverName: "", ipv4Compat: false } };
}

/** The outcome of a validator: every error, each prefixed with the path of the field at fault. */
export type Validation = { readonly valid: true } | { readonly valid: false; readonly errors: readonly string[] };

export function toValidation(errors: readonly string[]): Validation {
  return errors.length === 0 ? { valid: true } : { valid: false, errors };
}

/** True for a TCP port a listener or endpoint may use. */
export function isPort(value: number | undefined): value is number {
  return value !== undefined && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** Errors for an Address that must be a socket address with a host and a valid port. */
export function checkSocketAddress(address: Address | undefined, path: string): string[] {
  const sa = address?.socketAddress;
  if (sa === undefined) return [`${path}.socket_address: required`];
  const errors: string[] = [];
  if (sa.address === "") errors.push(`${path}.socket_address.address: must not be empty`);
  if (!isPort(sa.portValue)) errors.push(`${path}.socket_address.port_value: ${String(sa.portValue)} is not a port in 1..65535`);
  return errors;
}

/** Errors for names that repeat in a list. */
export function checkUniqueNames(names: readonly string[], path: (index: number) => string, what: string): string[] {
  const seen = new Map<string, number>();
  const errors: string[] = [];
  names.forEach((name, i) => {
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else errors.push(`${path(i)}: duplicate ${what} "${name}" (first at index ${first})`);
  });
  return errors;
}
