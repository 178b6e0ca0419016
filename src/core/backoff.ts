/**
 * Pure delay arithmetic: when to look again. Randomness is passed in so tests can pin it.
 */

export interface PollScheduleOptions {
  /** Delay before the second look while the room is starting. */
  readonly pollIntervalMs: number;
  /** Growth of the starting delay per look. */
  readonly pollBackoffFactor: number;
  /** Cap of the starting delay. */
  readonly maxPollIntervalMs: number;
  /** Delay between looks once the room is active (to see a move or the end). */
  readonly activePollIntervalMs: number;
  /** Relative jitter: a delay d becomes uniform in [d·(1−j), d·(1+j)], then capped. */
  readonly jitter: number;
}

export interface RetryScheduleOptions {
  /** Delay after the first failure in a row. */
  readonly initialRetryDelayMs: number;
  /** Cap of the failure delay. */
  readonly maxRetryDelayMs: number;
  /** Cap of a server's Retry-After. */
  readonly maxRetryAfterMs: number;
}

/**
 * Delay before the next look after a successful one. `looksInState` counts the looks since the
 * room entered its current status (1 after the first).
 */
export function nextPollDelayMs(
  status: "unknown" | "starting" | "active",
  looksInState: number,
  options: PollScheduleOptions,
  random: () => number,
): number {
  if (status === "active") {
    return jittered(options.activePollIntervalMs, options.jitter, random, options.activePollIntervalMs * 2);
  }
  const exponent = Math.max(0, looksInState - 1);
  const base = Math.min(options.maxPollIntervalMs, options.pollIntervalMs * options.pollBackoffFactor ** exponent);
  return jittered(base, options.jitter, random, options.maxPollIntervalMs);
}

/** `baseMs` spread uniformly by ±`jitter` (relative), then kept within [0, capMs]. */
export function jittered(baseMs: number, jitter: number, random: () => number, capMs: number): number {
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.round(Math.min(capMs, Math.max(0, baseMs * factor)));
}

/**
 * Delay after the `failures`-th failure in a row ("equal jitter": half fixed, half random, so the
 * delay never collapses to zero and never exceeds the cap).
 */
export function retryDelayMs(failures: number, options: RetryScheduleOptions, random: () => number): number {
  const exponent = Math.min(30, Math.max(0, failures - 1));
  const base = Math.min(options.maxRetryDelayMs, options.initialRetryDelayMs * 2 ** exponent);
  return Math.round(base / 2 + (random() * base) / 2);
}

/** Delay after a 429: the server's Retry-After when it sent one (capped), else the failure backoff. */
export function rateLimitDelayMs(
  retryAfterMs: number | undefined,
  failures: number,
  options: RetryScheduleOptions,
  random: () => number,
): number {
  if (retryAfterMs === undefined) return retryDelayMs(failures, options, random);
  return Math.min(options.maxRetryAfterMs, Math.max(0, retryAfterMs));
}

/**
 * Retry-After as milliseconds from `nowMs`: delta-seconds ("120", decimals tolerated) or an
 * HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  // Absurdly long delays stay finite: the caller's cap (maxRetryAfterMs) applies either way.
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(Number.MAX_SAFE_INTEGER, Math.round(Number(trimmed) * 1000));
  // The three HTTP-date forms of RFC 9110 (IMF-fixdate, RFC 850, asctime); Date.parse alone takes too much.
  const form = HTTP_DATE_FORMS.findIndex((f) => f.test(trimmed));
  if (form === -1) return undefined;
  // asctime carries no zone; HTTP dates are always GMT (Date.parse would read it as local time).
  const date = Date.parse(form === ASCTIME ? `${trimmed} GMT` : trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

const ASCTIME = 2;
const HTTP_DATE_FORMS: readonly RegExp[] = [
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];
