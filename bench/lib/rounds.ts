/**
 * How every bench reports: at least five rounds that alternate which side
 * runs first, each figure the median of its per-round values with their
 * spread, and one JSON line per figure:
 *
 *   {"bench":"authz.cpu_ratio","value":1.1,"goal":"<= 1.2","pass":true,"spread":0.04,"rounds":5}
 *
 * A result whose spread is larger than its margin to the goal does not pass:
 * it says `"inconclusive": true`, because noise, not the code, decided it.
 */

export const MIN_ROUNDS = 5;

export interface Goal {
  readonly op: "<=" | ">=" | "==";
  readonly limit: number;
}

export interface Figure {
  readonly bench: string;
  readonly value: number | null;
  readonly goal: string;
  readonly pass: boolean;
  readonly spread?: number;
  readonly rounds?: number;
  readonly inconclusive?: boolean;
  /** Why the figure is inconclusive, when it is not the spread (e.g. the load was not delivered). */
  readonly why?: string;
  readonly unit?: string;
}

/** `f` marked inconclusive for `why`: a figure measured under conditions that do not test the goal never passes. */
export function inconclusiveBecause(f: Figure, why: string): Figure {
  return { ...f, pass: false, inconclusive: true, why };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Half the distance between the second-lowest and second-highest sample (one outlier on each side is forgiven), or half the range for fewer than five. */
export function spread(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const lo = s.length >= 5 ? s[1] : s[0];
  const hi = s.length >= 5 ? s[s.length - 2] : s[s.length - 1];
  return ((hi ?? 0) - (lo ?? 0)) / 2;
}

function meets(value: number, goal: Goal): boolean {
  if (goal.op === "<=") return value <= goal.limit;
  if (goal.op === ">=") return value >= goal.limit;
  return value === goal.limit;
}

/** The figure of a set of per-round samples against a goal. */
export function figure(bench: string, samples: readonly number[], goal: Goal, unit?: string): Figure {
  const finite = samples.filter((x) => Number.isFinite(x));
  if (finite.length < samples.length || finite.length === 0) {
    return { bench, value: null, goal: `${goal.op} ${goal.limit}`, pass: false, rounds: samples.length, ...(unit === undefined ? {} : { unit }) };
  }
  const value = round(median(finite));
  const sp = round(spread(finite));
  const margin = Math.abs(goal.limit - value);
  const ok = meets(value, goal);
  const inconclusive = goal.op !== "==" && finite.length > 1 && sp > margin;
  return { bench, value, goal: `${goal.op} ${goal.limit}`, pass: ok && !inconclusive, spread: sp, rounds: finite.length, ...(inconclusive ? { inconclusive: true } : {}), ...(unit === undefined ? {} : { unit }) };
}

/** A figure that is printed for information only (no goal). */
export function info(bench: string, value: number, unit?: string): Figure {
  return { bench, value: round(value), goal: "info", pass: true, ...(unit === undefined ? {} : { unit }) };
}

export function report(f: Figure): void {
  console.log(JSON.stringify(f));
}

/**
 * Runs `rounds` rounds of two measurements, alternating which goes first,
 * and returns both sample lists in round order.
 */
export async function alternate(rounds: number, a: () => Promise<number> | number, b: () => Promise<number> | number): Promise<{ a: number[]; b: number[] }> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < Math.max(rounds, MIN_ROUNDS); i++) {
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  return { a: as, b: bs };
}

/** Per-round ratios b/a. */
export function ratios(s: { a: readonly number[]; b: readonly number[] }): number[] {
  return s.a.map((x, i) => (s.b[i] ?? Number.NaN) / x);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
