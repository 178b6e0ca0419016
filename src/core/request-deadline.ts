/**
 * One request's abort signal: it aborts when the caller's signal does (with the caller's reason) or when
 * the request has taken `timeoutMs` (with the timeout's reason), whichever comes first. `dispose()` unlinks
 * it from the caller's signal and clears its timer, so a look that retries a thousand times leaves
 * nothing behind on the look's signal (AbortSignal.any keeps a listener on its sources per call).
 */
import type { Clock } from "./clock.js";

export interface RequestDeadline {
  /** Give this to the request. */
  readonly signal: AbortSignal;
  /** Whether the timeout (not the caller) aborted it. */
  readonly timedOut: boolean;
  /** Unlinks from the caller's signal and clears the timer. Call once the request has settled. */
  dispose(): void;
}

/** `caller` undefined: only the timeout aborts it. */
export function requestDeadline(caller: AbortSignal | undefined, timeoutMs: number, clock: Clock, timeoutReason: () => Error): RequestDeadline {
  const controller = new AbortController();
  let timedOut = false;
  const onCallerAbort = (): void => controller.abort(caller?.reason);
  if (caller?.aborted === true) onCallerAbort();
  else caller?.addEventListener("abort", onCallerAbort, { once: true });
  const timer = clock.setTimeout(() => {
    timedOut = true;
    controller.abort(timeoutReason());
  }, timeoutMs);
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      caller?.removeEventListener("abort", onCallerAbort);
      clock.clearTimeout(timer);
    },
  };
}
