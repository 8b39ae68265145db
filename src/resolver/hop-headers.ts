/**
 * Which headers a proxy must not pass on (RFC 9110 §7.6.1: hop-by-hop),
 * and how the resolver builds the header lists it sends each way. Pure.
 */

/** Connection-specific headers: never forwarded, in either direction. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Header names the `connection` header lists are hop-by-hop too. */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  return new Set(text.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== ""));
}

/**
 * The end-to-end headers of a raw header list (node's `rawHeaders`: name,
 * value, name, value …), names as received, minus `drop` (lower-case).
 */
export function endToEnd(raw: readonly string[], drop: ReadonlySet<string> = new Set()): [string, string][] {
  const named: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] ?? "").toLowerCase() === "connection") named.push(raw[i + 1] ?? "");
  const listed = connectionTokens(named);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || drop.has(lower)) continue;
    out.push([name, raw[i + 1] ?? ""]);
  }
  return out;
}

/** `headers` with every name in `set` replaced by its value there. */
export function withHeaders(headers: readonly [string, string][], set: readonly (readonly [string, string])[]): [string, string][] {
  const names = new Set(set.map(([n]) => n.toLowerCase()));
  return [...headers.filter(([n]) => !names.has(n.toLowerCase())), ...set.map(([n, v]): [string, string] => [n, v])];
}

/** A flat list for node's `writeHead` / `request` (`[name, value, name, value …]` keeps repeated names, e.g. Set-Cookie). */
export function flat(headers: readonly (readonly [string, string])[]): string[] {
  return headers.flatMap(([n, v]) => [n, v]);
}
