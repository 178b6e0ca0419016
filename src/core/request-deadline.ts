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
  /** Throws why it was aborted: the caller's reason if the caller aborted, else the timeout's; returns if neither. */
  throwIfAborted(): void;
  /** Unlinks from the caller's signal and clears the timer. Call once the request has settled. */
  dispose(): void;
}

/** `caller` undefined: only the timeout aborts it. */
export function requestDeadline(caller: AbortSignal | undefined, timeoutMs: number, clock: Clock, timeoutReason: () => Error): RequestDeadline {
  const controller = new AbortController();
  const onCallerAbort = (): void => controller.abort(caller?.reason);
  if (caller?.aborted === true) onCallerAbort();
  else caller?.addEventListener("abort", onCallerAbort, { once: true });
  const timer = clock.setTimeout(() => {
    if (!controller.signal.aborted) controller.abort(timeoutReason());
  }, timeoutMs);
  return {
    signal: controller.signal,
    throwIfAborted() {
      // The caller's own signal too: after dispose() the two are no longer linked.
      caller?.throwIfAborted();
      controller.signal.throwIfAborted();
    },
    dispose() {
      caller?.removeEventListener("abort", onCallerAbort);
      clock.clearTimeout(timer);
    },
  };
}
