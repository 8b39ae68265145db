/**
 * Who a Check request comes from, for the per-client limits.
 *
 * With `trustedHops` 0 it is the address Envoy saw the connection come from
 * (CheckRequest `attributes.source.address`). Behind N trusted proxies that
 * each append the address they saw to X-Forwarded-For, it is the Nth address
 * from the right: everything to its left was written by the client and is
 * not to be believed. Too few entries: the client skipped a proxy, so the
 * source address is used. Pure; never throws.
 */
const MAX_ADDRESS_LENGTH = 64;

export function clientAddress(sourceAddress: string | undefined, forwardedFor: string | undefined, trustedHops: number): string | undefined {
  if (trustedHops > 0 && forwardedFor !== undefined) {
    const hops = forwardedFor.split(",");
    const chosen = hops[hops.length - trustedHops];
    if (chosen !== undefined) {
      const address = chosen.trim();
      if (address.length > 0 && address.length <= MAX_ADDRESS_LENGTH) return address;
    }
  }
  if (sourceAddress === undefined || sourceAddress.length === 0 || sourceAddress.length > MAX_ADDRESS_LENGTH) return undefined;
  return sourceAddress;
}
