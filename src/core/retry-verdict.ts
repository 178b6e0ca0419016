/**
 * What a failed look means for the loop that made it: try again after a backoff, wait out a 429, or
 * give up. Pure: the poll loop does the waiting (on its fleet's timer heap) and the slot acquiring.
 */
import { InvalidPayloadError, RateLimitedError, RoomWatcherError } from "./errors.js";

export type RetryVerdict =
  /** Not retryable (a terminal HTTP status, bad configuration, a source's bug, too many invalid payloads in a row): the look fails for good. */
  | { readonly kind: "give_up"; readonly invalidRun: number }
  /** Transient: back off (capped, jittered, exponential), then try again. */
  | { readonly kind: "retry"; readonly error: RoomWatcherError; readonly invalidRun: number }
  /** A 429: the whole upstream is paused (Retry-After, capped), then try again. */
  | { readonly kind: "rate_limited"; readonly error: RateLimitedError; readonly invalidRun: number };

/**
 * Classifies `error`. `invalidRun` counts invalid payloads in a row so far: a retryable failure of any
 * other kind resets it, and the run reaching `maxConsecutiveInvalidPayloads` gives up (an upstream
 * that keeps answering garbage is not going to get better).
 */
export function classifyFailure(error: unknown, invalidRun: number, maxConsecutiveInvalidPayloads: number): RetryVerdict {
  if (!(error instanceof RoomWatcherError) || !error.retryable) return { kind: "give_up", invalidRun };
  const run = error instanceof InvalidPayloadError ? invalidRun + 1 : 0;
  if (run >= maxConsecutiveInvalidPayloads) return { kind: "give_up", invalidRun: run };
  if (error instanceof RateLimitedError) return { kind: "rate_limited", error, invalidRun: run };
  return { kind: "retry", error, invalidRun: run };
}
