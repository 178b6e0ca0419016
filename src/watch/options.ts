/** Watch options, their defaults, and their validation. Every duration is in milliseconds. */
import type { PollScheduleOptions, RetryScheduleOptions } from "../core/backoff.js";
import { ConfigError } from "../core/errors.js";
import { validateDurationMs } from "../core/validate.js";

/**
 * Deadline to become active. The reference: a process that has not bound its port within 100 s
 * is terminated; 20 s more covers scheduling and our own poll spacing.
 */
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Connection info may 404 for a moment right after create (undocumented); tolerate it this long. */
export const DEFAULT_NOT_FOUND_GRACE_MS = 5_000;

export const DEFAULT_POLL_OPTIONS: ResolvedPollOptions = Object.freeze({
  pollIntervalMs: 500,
  pollBackoffFactor: 1.5,
  maxPollIntervalMs: 2_000,
  activePollIntervalMs: 5_000,
  jitter: 0.2,
  initialRetryDelayMs: 500,
  maxRetryDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
  maxConsecutiveInvalidPayloads: 3,
  minPollIntervalMs: 100,
  delayPerLookMs: 120,
  pollBudgetIntervalMs: 1_000,
});

/** How one room is polled. Shared by every watch of that room: the first watch's options win. */
export interface PollOptions {
  /** Delay before the second look while starting (the first look is immediate). Default 500 ms. */
  pollIntervalMs?: number | undefined;
  /** Growth of that delay per look. Default 1.5. */
  pollBackoffFactor?: number | undefined;
  /** Cap of the starting delay. Default 2,000 ms. */
  maxPollIntervalMs?: number | undefined;
  /** Delay between looks once active, to see a move or the end. Default 5,000 ms. */
  activePollIntervalMs?: number | undefined;
  /** Relative jitter of poll delays, 0..1. Default 0.2. */
  jitter?: number | undefined;
  /** Backoff after the first failure in a row (doubling, equal jitter). Default 500 ms. */
  initialRetryDelayMs?: number | undefined;
  /** Cap of the failure backoff. Default 15,000 ms. */
  maxRetryDelayMs?: number | undefined;
  /** Cap of a 429's Retry-After. Default 60,000 ms. */
  maxRetryAfterMs?: number | undefined;
  /** Invalid payloads in a row before the watch fails. Default 3. */
  maxConsecutiveInvalidPayloads?: number | undefined;
  /** The floor: no two looks at a room closer than this, whatever the schedule or a sibling says. Default 100 ms. */
  minPollIntervalMs?: number | undefined;
  /**
   * Once the fleet has learned how long rooms take to start, looks at a starting room are spaced so that
   * each costs about this much detection delay: dense where activation is likely, sparse where not.
   * Lower: more requests, sooner detection. 0 keeps the fixed backoff. Read by the fleet's `legacy`
   * schedule only. Default 120 ms.
   */
  delayPerLookMs?: number | undefined;
  /**
   * The fleet's `optimal` schedule spends on a starting room at most the looks a fixed loop looking
   * this often would spend on the learned distribution, and places them where they cut the mean
   * detection delay most. Lower: more requests, sooner detection. Default 1,000 ms.
   */
  pollBudgetIntervalMs?: number | undefined;
}

/** Every poll option, filled in. */
export type ResolvedPollOptions = { readonly [K in keyof PollOptions]-?: number } & PollScheduleOptions & RetryScheduleOptions;

const POLL_OPTION_KEYS = Object.keys(DEFAULT_POLL_OPTIONS) as ReadonlyArray<keyof PollOptions>;
/** Resolved options by their values: 100,000 watchers with the same options share one object. */
const resolvedCache = new Map<string, ResolvedPollOptions>();
const MAX_CACHED = 64;

/** `options`, each one it leaves unset taken from `defaults` (a fleet's). */
export function withPollDefaults(options: PollOptions, defaults: PollOptions): PollOptions {
  const merged: Record<string, number | undefined> = {};
  for (const key of POLL_OPTION_KEYS) merged[key] = options[key] ?? defaults[key];
  return merged;
}

export function resolvePollOptions(options: PollOptions): ResolvedPollOptions {
  const cacheKey = POLL_OPTION_KEYS.map((key) => options[key] ?? "").join(",");
  const cached = resolvedCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const resolved = resolveUncached(options);
  if (resolvedCache.size >= MAX_CACHED) resolvedCache.clear();
  resolvedCache.set(cacheKey, resolved);
  return resolved;
}

function resolveUncached(options: PollOptions): ResolvedPollOptions {
  const pick = <K extends keyof PollOptions>(key: K): number => options[key] ?? DEFAULT_POLL_OPTIONS[key];
  const resolved = {
    pollIntervalMs: validateDurationMs("pollIntervalMs", pick("pollIntervalMs"), { allowZero: false }),
    pollBackoffFactor: pick("pollBackoffFactor"),
    maxPollIntervalMs: validateDurationMs("maxPollIntervalMs", pick("maxPollIntervalMs"), { allowZero: false }),
    activePollIntervalMs: validateDurationMs("activePollIntervalMs", pick("activePollIntervalMs"), { allowZero: false }),
    jitter: pick("jitter"),
    initialRetryDelayMs: validateDurationMs("initialRetryDelayMs", pick("initialRetryDelayMs"), { allowZero: false }),
    maxRetryDelayMs: validateDurationMs("maxRetryDelayMs", pick("maxRetryDelayMs"), { allowZero: false }),
    maxRetryAfterMs: validateDurationMs("maxRetryAfterMs", pick("maxRetryAfterMs")),
    maxConsecutiveInvalidPayloads: pick("maxConsecutiveInvalidPayloads"),
    minPollIntervalMs: validateDurationMs("minPollIntervalMs", options.minPollIntervalMs ?? Math.min(DEFAULT_POLL_OPTIONS.minPollIntervalMs, pick("pollIntervalMs"))),
    delayPerLookMs: validateDurationMs("delayPerLookMs", pick("delayPerLookMs")),
    pollBudgetIntervalMs: validateDurationMs("pollBudgetIntervalMs", pick("pollBudgetIntervalMs"), { allowZero: false }),
  };
  if (!(resolved.pollBackoffFactor >= 1) || !Number.isFinite(resolved.pollBackoffFactor)) {
    throw new ConfigError(`pollBackoffFactor must be a finite number >= 1, got ${resolved.pollBackoffFactor}`);
  }
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1)) {
    throw new ConfigError(`jitter must be between 0 and 1, got ${resolved.jitter}`);
  }
  if (!Number.isInteger(resolved.maxConsecutiveInvalidPayloads) || resolved.maxConsecutiveInvalidPayloads < 1) {
    throw new ConfigError(`maxConsecutiveInvalidPayloads must be a positive integer, got ${resolved.maxConsecutiveInvalidPayloads}`);
  }
  if (resolved.minPollIntervalMs > resolved.maxPollIntervalMs) {
    throw new ConfigError("minPollIntervalMs must not be above maxPollIntervalMs");
  }
  if (resolved.maxPollIntervalMs < resolved.pollIntervalMs) {
    throw new ConfigError("maxPollIntervalMs must not be below pollIntervalMs");
  }
  return Object.freeze(resolved);
}
