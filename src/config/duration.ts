/**
 * Durations as the config sources write them: "250ms", "10s", "5m",
 * "1h30m", "1.5h", or a bare number meaning seconds (k8sTicket's Podcooldown
 * is a number of seconds, and so is a YAML `10`). Results are whole
 * milliseconds (fractions round to the nearest millisecond).
 */
export type DurationResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly rule: string };

export const DURATION_RULE = 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;

/** Parses a duration; a number or numeric string is seconds. Negative, empty or unknown units are errors. */
export function parseDuration(value: unknown): DurationResult {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) return { ok: false, rule: `${DURATION_RULE}, not negative` };
    return finish(value * 1000);
  }
  if (typeof value !== "string") return { ok: false, rule: DURATION_RULE };
  const text = value.trim();
  if (text.startsWith("-")) return { ok: false, rule: `${DURATION_RULE}, not negative` };
  if (BARE_NUMBER.test(text)) return finish(Number(text) * 1000);
  if (!WHOLE.test(text)) return { ok: false, rule: DURATION_RULE };
  let total = 0;
  for (const match of text.matchAll(PART)) total += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN);
  return finish(total);
}

function finish(ms: number): DurationResult {
  const rounded = Math.round(ms);
  if (!Number.isSafeInteger(rounded)) return { ok: false, rule: `${DURATION_RULE}, and not absurdly long` };
  return { ok: true, ms: rounded };
}

/** Formats milliseconds back into the shortest duration string ("1h30m", "250ms", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
