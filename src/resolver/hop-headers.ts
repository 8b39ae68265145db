/**
 * Which headers a proxy must not pass on (RFC 9110 §7.6.1: hop-by-hop),
 * and how the resolver builds the header lists it sends each way. Pure.
 *
 * Every forwarded request and response goes through `forwardHeaders`, so it
 * is one pass over node's flat `rawHeaders` into the flat list node's
 * `request` / `writeHead` take, with no intermediate pairs.
 */

/** Connection-specific headers: never forwarded, in either direction. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

type Header = readonly [string, string];
const NONE: readonly Header[] = [];
const NO_NAMES: ReadonlySet<string> = new Set();

/** The header names the `connection` headers of a raw list name (hop-by-hop too); undefined when there is none. */
function connectionListed(raw: readonly string[]): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    // The length first: every request and response passes here, and few of their headers are this long.
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    listed ??= new Set();
    for (const t of (raw[i + 1] ?? "").split(",")) {
      const token = t.trim().toLowerCase();
      if (token !== "") listed.add(token);
    }
  }
  return listed;
}

export interface ForwardHeaderOptions {
  /** Headers that replace the received ones of the same name (case-insensitive). */
  readonly set?: readonly Header[];
  /** Headers appended after the received ones (repeated names kept, e.g. Set-Cookie). */
  readonly add?: readonly Header[];
  /** Lower-case names dropped besides the hop-by-hop ones. */
  readonly drop?: ReadonlySet<string>;
}

/**
 * The end-to-end headers of a raw header list (node's `rawHeaders`: name,
 * value, name, value …), names as received and in order, minus `drop`,
 * with `set` replacing and `add` appended: flat, for node's `request` and
 * `writeHead` (a flat list keeps repeated names).
 */
export function forwardHeaders(raw: readonly string[], options: ForwardHeaderOptions = {}): string[] {
  const { set = NONE, add = NONE, drop = NO_NAMES } = options;
  const listed = connectionListed(raw) ?? NO_NAMES;
  // A handful of names at most: an array beats building a Set per call.
  const replaced = set.map(([n]) => n.toLowerCase());
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || drop.has(lower) || listed.has(lower) || replaced.includes(lower)) continue;
    out.push(name, raw[i + 1] ?? "");
  }
  for (const [n, v] of set) out.push(n, v);
  for (const [n, v] of add) out.push(n, v);
  return out;
}

/** `forwardHeaders` as name/value pairs (for the raw 101 and error heads written on a socket). */
export function endToEnd(raw: readonly string[], drop: ReadonlySet<string> = NO_NAMES): [string, string][] {
  const flatList = forwardHeaders(raw, { drop });
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flatList.length; i += 2) out.push([flatList[i] ?? "", flatList[i + 1] ?? ""]);
  return out;
}
