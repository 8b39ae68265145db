import type { Clock, Timer } from "../../common/clock.js";
import type { Logger } from "../../common/logger.js";

/** One NACK as the log shows it (`error` already truncated). */
export interface NackEvent {
  readonly node: string;
  readonly group: string;
  readonly typeUrl: string;
  readonly rejectedVersion: string;
  readonly acceptedVersion: string | undefined;
  readonly error: string;
}

interface Window {
  readonly timer: Timer;
  /** NACKs since the last line, not logged. */
  suppressed: number;
  latest: NackEvent | undefined;
}

/**
 * NACK log lines of one stream, rate-limited per type: the first NACK is
 * logged at once and opens an interval; the NACKs within it are counted,
 * and when it ends one line gives their number and the latest of them (and
 * opens the next interval). An interval without NACKs closes the window, so
 * the next NACK is again logged at once. Time comes from the Clock.
 */
export class NackLog {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  nack(event: NackEvent): void {
    const window = this.#windows.get(event.typeUrl);
    if (window) {
      window.suppressed += 1;
      window.latest = event;
      return;
    }
    this.#write(event, 0);
    this.#open(event.typeUrl);
  }

  /** Cancels the timers; NACKs not yet logged get their line now. */
  close(): void {
    for (const window of this.#windows.values()) {
      window.timer.cancel();
      if (window.latest) this.#write(window.latest, window.suppressed);
    }
    this.#windows.clear();
  }

  #open(typeUrl: string): void {
    const window: Window = { suppressed: 0, latest: undefined, timer: this.clock.setTimeout(() => this.#end(typeUrl, window), this.intervalMs) };
    this.#windows.set(typeUrl, window);
  }

  #end(typeUrl: string, window: Window): void {
    this.#windows.delete(typeUrl);
    if (!window.latest) return;
    this.#write(window.latest, window.suppressed);
    this.#open(typeUrl);
  }

  #write(event: NackEvent, suppressed: number): void {
    const fields = {
      node: event.node,
      group: event.group,
      typeUrl: event.typeUrl,
      rejectedVersion: event.rejectedVersion,
      acceptedVersion: event.acceptedVersion,
      error: event.error,
    };
    if (suppressed === 0) this.log.warn("xds: client rejected config (NACK); it keeps its last accepted version", fields);
    else this.log.warn("xds: client kept rejecting config (NACK); the latest is shown", { ...fields, nacks: suppressed, intervalMs: this.intervalMs });
  }
}

/**
 * A client's message cut to `max` characters, saying that it was cut and how
 * long it was. The cut is copied, so it never keeps a huge message alive.
 */
export function truncateMessage(message: string, max: number): string {
  if (message.length <= max) return message;
  // Never split a surrogate pair.
  const end = isHighSurrogate(message.charCodeAt(max - 1)) ? max - 1 : max;
  const head = Buffer.from(message.slice(0, end), "utf8").toString("utf8");
  return `${head}… [truncated: ${message.length} characters]`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
