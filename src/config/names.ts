/**
 * Name rules shared by every source: Kubernetes DNS-1123 names, host names,
 * cookie names and URL paths. Each check returns undefined when the value is
 * fine, or the rule it broke.
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const COOKIE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

export const DNS_LABEL_RULE = "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";
export const DNS_SUBDOMAIN_RULE = "must be a DNS-1123 subdomain (dot-separated DNS-1123 labels, at most 253 characters)";
export const HOST_NAME_RULE = "must be a host name (dot-separated labels of letters, digits and '-', at most 253 characters; \"*.\" may lead)";
export const NUMERIC_HOST_RULE = "must be a host name, whose last label is not all digits (such a name reads as an IPv4 address, RFC 1123)";
export const COOKIE_NAME_RULE = "must be a cookie name (RFC 6265 token: letters, digits and !#$%&'*+-.^_`|~)";

export function checkDnsLabel(value: string): string | undefined {
  return value.length <= 63 && DNS_LABEL.test(value) ? undefined : DNS_LABEL_RULE;
}

export function checkDnsSubdomain(value: string): string | undefined {
  if (value.length === 0 || value.length > 253) return DNS_SUBDOMAIN_RULE;
  return value.split(".").every((l) => checkDnsLabel(l) === undefined) ? undefined : DNS_SUBDOMAIN_RULE;
}

/**
 * RFC 1123 host name (case-insensitive), optionally a "*." wildcard as Envoy
 * virtual-host domains allow. A name whose last label is all digits
 * ("300.1.1.1", "1.2.3") is none: resolvers and URL parsers (WHATWG) read it
 * as an IPv4 address. Callers that also take IP literals check those first.
 */
export function checkHostName(value: string): string | undefined {
  const name = value.startsWith("*.") ? value.slice(2) : value;
  if (name.length === 0 || name.length > 253) return HOST_NAME_RULE;
  const labels = name.split(".");
  if (!labels.every((l) => l.length <= 63 && DNS_LABEL.test(l.toLowerCase()))) return HOST_NAME_RULE;
  return /^\d+$/.test(labels[labels.length - 1] ?? "") ? NUMERIC_HOST_RULE : undefined;
}

export function checkCookieName(value: string): string | undefined {
  return COOKIE_TOKEN.test(value) ? undefined : COOKIE_NAME_RULE;
}

/** An absolute URL path with no query, fragment or spaces. */
export function checkPath(value: string): string | undefined {
  if (!value.startsWith("/")) return 'must start with "/"';
  if (!PATH_CHARS.test(value)) return "must be a URL path (no spaces, \"?\" or \"#\")";
  return undefined;
}

/** A path prefix: an absolute path that also ends with "/", so "/app/" never matches "/apple". */
export function checkPathPrefix(value: string): string | undefined {
  const pathRule = checkPath(value);
  if (pathRule !== undefined) return pathRule === 'must start with "/"' ? 'must start and end with "/"' : pathRule;
  return value.endsWith("/") ? undefined : 'must start and end with "/"';
}
