/**
 * What Envoy's ext_authz filter does to headers with a CheckResponse (pure).
 *
 * A header list is a map from lower-case name to its values in order, the way
 * Envoy's HeaderMap keeps repeated headers apart. Each HeaderValueOption is
 * applied with its append semantics:
 *
 *  - `append` set (deprecated BoolValue): true → APPEND_IF_EXISTS_OR_ADD,
 *    false → OVERWRITE_IF_EXISTS_OR_ADD. It wins over `append_action`, as in
 *    Envoy (HeaderValueOption's `append` is honoured whenever present).
 *  - `append` unset: `append_action`. The ext_authz messages (OkHttpResponse
 *    headers and response_headers_to_add, DeniedHttpResponse headers) document
 *    that `append` defaults to false there, so the enum's zero value
 *    (APPEND_IF_EXISTS_OR_ADD, which proto3 cannot tell from "not sent") is
 *    read as OVERWRITE_IF_EXISTS_OR_ADD — the behaviour Envoy kept after
 *    reverting 1.37's change (envoy #42857, #43310, #43442). Appending without
 *    `append: true` is not possible for these messages, which is why Check
 *    always sends the flag explicitly.
 *  - an empty value is dropped unless `keep_empty_value`.
 *
 * Pseudo-headers (`:path`, `:authority`, …) are never set or removed through
 * these lists, and `host` is never removed (Envoy ignores such entries).
 */
import type { HeaderValueOption, QueryParameter } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { HeaderValueOption_HeaderAppendAction as AppendAction } from "@envoyproxy/protos/envoy/config/core/v3/base";

/** Lower-case header name → values, in the order they were added. */
export type HeaderList = Map<string, string[]>;

/** The action one option takes, after the `append` flag and this message's default are applied. */
export function appendActionOf(option: HeaderValueOption): AppendAction {
  if (option.append !== undefined) return option.append ? AppendAction.APPEND_IF_EXISTS_OR_ADD : AppendAction.OVERWRITE_IF_EXISTS_OR_ADD;
  return option.appendAction === AppendAction.APPEND_IF_EXISTS_OR_ADD || option.appendAction === AppendAction.UNRECOGNIZED ? AppendAction.OVERWRITE_IF_EXISTS_OR_ADD : option.appendAction;
}

/** The option's value: `value`, else `raw_value` as UTF-8. */
function valueOf(option: HeaderValueOption): string {
  const h = option.header;
  if (h === undefined) return "";
  return h.value.length > 0 ? h.value : Buffer.from(h.rawValue).toString("utf8");
}

/**
 * Applies one option to `headers` in place. Returns true when the list
 * changed (the filter clears the route cache only then).
 */
export function applyHeaderOption(headers: HeaderList, option: HeaderValueOption): boolean {
  const name = option.header?.key.toLowerCase() ?? "";
  if (name.length === 0 || name.startsWith(":")) return false;
  const value = valueOf(option);
  if (value.length === 0 && !option.keepEmptyValue) return false;
  const existing = headers.get(name);
  switch (appendActionOf(option)) {
    case AppendAction.APPEND_IF_EXISTS_OR_ADD:
      headers.set(name, [...(existing ?? []), value]);
      return true;
    case AppendAction.ADD_IF_ABSENT:
      if (existing !== undefined) return false;
      headers.set(name, [value]);
      return true;
    case AppendAction.OVERWRITE_IF_EXISTS:
      if (existing === undefined) return false;
      return overwrite(headers, name, value, existing);
    default:
      return overwrite(headers, name, value, existing);
  }
}

function overwrite(headers: HeaderList, name: string, value: string, existing: string[] | undefined): boolean {
  if (existing?.length === 1 && existing[0] === value) return false;
  headers.set(name, [value]);
  return true;
}

/** Applies every option in order; true when any changed the list. */
export function applyHeaderOptions(headers: HeaderList, options: readonly HeaderValueOption[]): boolean {
  let changed = false;
  for (const option of options) changed = applyHeaderOption(headers, option) || changed;
  return changed;
}

/** `headers_to_remove`: removes each named header (case-insensitive), never a pseudo-header or `host`. True when any was present. */
export function removeHeaders(headers: HeaderList, names: readonly string[]): boolean {
  let changed = false;
  for (const raw of names) {
    const name = raw.toLowerCase();
    if (name.startsWith(":") || name === "host") continue;
    changed = headers.delete(name) || changed;
  }
  return changed;
}

/**
 * `query_parameters_to_set` (overwrites every value of the key, else adds it)
 * and `query_parameters_to_remove` (case-sensitive keys) applied to a
 * `:path`. Returns the path unchanged (same string) when nothing applies.
 */
export function applyQueryParameters(path: string, set: readonly QueryParameter[], remove: readonly string[]): string {
  if (set.length === 0 && remove.length === 0) return path;
  const cut = path.indexOf("?");
  const base = cut < 0 ? path : path.slice(0, cut);
  const params = new URLSearchParams(cut < 0 ? "" : path.slice(cut + 1));
  for (const key of remove) params.delete(key);
  for (const { key, value } of set) params.set(key, value);
  const query = params.toString();
  return query.length === 0 ? base : `${base}?${query}`;
}

/** Node's incoming headers (joined strings, set-cookie arrays) as a HeaderList. */
export function headerListOf(raw: Readonly<Record<string, string | string[] | undefined>>): HeaderList {
  const list: HeaderList = new Map();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    list.set(name.toLowerCase(), Array.isArray(value) ? [...value] : [value]);
  }
  return list;
}

/**
 * The value Envoy's ext_authz puts in CheckRequest `headers` for a header
 * sent several times: its values joined with ",". (Node has already joined
 * repeated `cookie` lines with "; ".)
 */
export function joinedValue(values: readonly string[]): string {
  return values.join(",");
}
