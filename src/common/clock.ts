/** A source of wall-clock time in milliseconds since the epoch. Passed in, never imported as a singleton. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
