/**
 * The host Envoy picks a virtual host by, from a request's `:authority`, for a
 * RouteConfiguration with `ignore_port_in_host_matching: true` (ours).
 *
 * Envoy (RouteMatcher::findVirtualHost) cuts the authority at
 * HeaderUtility::getPortStart and lower-cases the rest (ASCII only). getPortStart
 * is the last ':' unless a ']' comes after it (an IPv6 literal in brackets). It
 * does not check that a port follows: "foo.com:abc" and "foo.com:" both become
 * "foo.com", and an unbracketed "fe80::1" becomes "fe80:". We do the same, so
 * Check and Envoy land in the same virtual host for any authority Envoy accepts.
 */

/** Index of the ':' that starts the port, or -1 when the authority has none (Envoy's getPortStart). */
export function portStart(authority: string): number {
  const colon = authority.lastIndexOf(":");
  if (colon < 0) return -1;
  return authority.lastIndexOf("]") > colon ? -1 : colon;
}

/** The authority without its port, ASCII lower-cased: what the domains of a virtual host are compared with. */
export function hostForMatching(authority: string): string {
  const colon = portStart(authority);
  return asciiLower(colon < 0 ? authority : authority.slice(0, colon));
}

const UPPER = /[A-Z]/;
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * ASCII-only lower-casing, like absl::AsciiStrToLower: "İ" or "K" (Kelvin)
 * stay as they are, where String#toLowerCase would fold them to ASCII and make
 * a host match a domain Envoy never would. Returns the string itself when it
 * has no upper-case letter (the common case: no allocation).
 */
export function asciiLower(text: string): string {
  if (!UPPER.test(text)) return text;
  // Pure ASCII (every authority Envoy accepts): the built-in is exact there, and fast.
  return NON_ASCII.test(text) ? text.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : text.toLowerCase();
}
