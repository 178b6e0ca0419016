/** The feed of a room on a push source: one subscription, fanned out. */
import type { PushSource, SourceListener } from "../core/source.js";
import { FanOut } from "./room-feed.js";

export class PushFeed extends FanOut {
  readonly requests = 0;
  readonly #subscription: { unsubscribe(): Promise<void> };

  constructor(source: PushSource, roomId: string, observer?: SourceListener) {
    super(source, roomId, observer);
    this.#subscription = source.subscribe(roomId, {
      onResult: (result, at) => this.deliver(result, at),
      onTransientFailure: (failure) => this.deliverFailure(failure),
      onFatal: (error, at) => this.deliverFatal(error, at),
    });
  }

  protected onStop(): void {
    const finish = (): void => this.ended();
    // A push source's unsubscribe must not reject; if it does, the feed still ends.
    this.#subscription.unsubscribe().then(finish, finish);
  }
}
