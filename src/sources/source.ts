/**
 * Where observations come from. The core knows nothing of Hathora: a source answers "what is this
 * room's status now?" and throws a RoomWatcherError when it cannot tell.
 */
import type { PollResult } from "../core/observation.js";

export interface PollingSource {
  /**
   * Names the upstream. Watches of the same room through sources with the same key share one
   * poll. Must not contain secrets.
   */
  readonly key: string;
  /** One look at the room. Throws RoomWatcherError (retryable or not); rejects with `signal.reason` on abort. */
  poll(roomId: string, options: { readonly signal: AbortSignal }): Promise<PollResult>;
}
