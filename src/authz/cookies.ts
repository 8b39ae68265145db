/**
 * Cookie reading for the Check path. Never throws: a malformed Cookie header
 * simply yields no value. Written as an index scan (no split, no regex) because
 * it runs on every Check.
 */

/** Longest cookie value we accept (browsers cap a cookie near 4 KiB). */
const MAX_VALUE_LENGTH = 4096;

/** At most this many values of one cookie name are read: each costs a signature check. */
export const MAX_COOKIE_VALUES = 4;

/**
 * The first *valid* value of cookie `name` in a Cookie header (or several
 * headers joined by `;` or `,`). Surrounding double quotes are removed. A value
 * is valid when it is non-empty, at most 4 KiB, and made of RFC 6265
 * cookie-octets only; invalid duplicates are skipped.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  return readCookies(header, name, 1)[0];
}

/** What a header without the cookie yields: one shared empty list, so a request without it allocates nothing. */
const NONE: readonly string[] = Object.freeze([]);

/**
 * Every valid value of cookie `name`, in header order, at most `max`. A
 * browser sends several cookies of one name (a longer path, a sibling
 * domain, a junk one set by someone else): the caller tries them in order.
 * Finds the name with indexOf rather than walking every pair: a browser's
 * Cookie header is mostly other cookies.
 */
export function readCookies(header: string | undefined, name: string, max = MAX_COOKIE_VALUES): readonly string[] {
  if (header === undefined || header.length === 0 || name.length === 0) return NONE;
  let values: string[] | undefined;
  let from = 0;
  while ((values?.length ?? 0) < max) {
    const at = header.indexOf(name, from);
    if (at < 0) break;
    from = at + 1;
    if (!startsPair(header, at)) continue;
    const end = pairEnd(header, at);
    const value = pairValue(header, at, end, name);
    if (value !== undefined) (values ??= []).push(value);
    from = end + 1;
  }
  return values ?? NONE;
}

/** Only spaces stand between header[at] and the start of its pair (the header's start, or a `;` or `,`). */
function startsPair(header: string, at: number): boolean {
  let p = at - 1;
  while (p >= 0 && isSpace(header.charCodeAt(p))) p--;
  if (p < 0) return true;
  const c = header.charCodeAt(p);
  return c === 59 /* ; */ || c === 44 /* , */;
}

/**
 * Sticky scanners (lastIndex in, lastIndex out): a run of anything but the
 * pair separators, and a run of RFC 6265 cookie-octets
 * (%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E). A ticket is some 170
 * characters, each crossed twice per Check: the regex engine's compiled
 * loop is about three times quicker than a charCodeAt loop.
 */
const PAIR_CONTENT = /[^;,]*/y;
const COOKIE_OCTETS = /[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*/y;

/** Where the pair that holds header[at] ends: the next `;` or `,`, or the header's end. */
function pairEnd(header: string, at: number): number {
  PAIR_CONTENT.lastIndex = at;
  PAIR_CONTENT.test(header);
  return PAIR_CONTENT.lastIndex;
}

/** The value of `name=value` in header[start, end), if the pair names `name` and the value is valid. */
function pairValue(header: string, start: number, end: number, name: string): string | undefined {
  while (start < end && isSpace(header.charCodeAt(start))) start++;
  if (end - start <= name.length || !header.startsWith(name, start)) return undefined;
  let p = start + name.length;
  while (p < end && isSpace(header.charCodeAt(p))) p++;
  if (header.charCodeAt(p) !== 61 /* = */) return undefined;
  p++;
  return validValue(header, p, end);
}

/** header[start, end) trimmed and unquoted, if it is a valid cookie value. */
function validValue(header: string, start: number, end: number): string | undefined {
  let p = start;
  let q = end;
  while (q > p && isSpace(header.charCodeAt(q - 1))) q--;
  while (p < q && isSpace(header.charCodeAt(p))) p++;
  if (q - p >= 2 && header.charCodeAt(p) === 34 && header.charCodeAt(q - 1) === 34) {
    p++;
    q--;
  }
  if (q <= p || q - p > MAX_VALUE_LENGTH) return undefined;
  // header[q] is a space, a quote, a separator or the end, none a cookie-octet: the run reaches q only if all before it are.
  COOKIE_OCTETS.lastIndex = p;
  COOKIE_OCTETS.test(header);
  if (COOKIE_OCTETS.lastIndex < q) return undefined;
  return header.slice(p, q);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

export interface SetCookieOptions {
  readonly path: string;
  readonly secure: boolean;
  /** Seconds; omitted for a session cookie; 0 deletes the cookie. */
  readonly maxAgeSeconds?: number;
}

/** A Set-Cookie value: `name=value; Path=…; HttpOnly; SameSite=Lax[; Max-Age=…][; Secure]`. */
export function formatSetCookie(name: string, value: string, options: SetCookieOptions): string {
  let out = `${name}=${value}; Path=${options.path}; HttpOnly; SameSite=Lax`;
  if (options.maxAgeSeconds !== undefined) out += `; Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`;
  if (options.secure) out += "; Secure";
  return out;
}
