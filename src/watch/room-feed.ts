/**
 * A room feed: the one upstream subscription of one room in a fleet, fanned out to every watcher
 * of that room. RoomPoll is the polling feed; PushFeed wraps a push source's subscription.
 */
import type { PollResult } from "../core/observation.js";
import type { PushSource, SourceListener, TransientFailure } from "../sources/source.js";

export interface RoomFeed {
  readonly roomId: string;
  readonly listenerCount: number;
  readonly stopped: boolean;
  /** Upstream requests made for this room (0 for push feeds). */
  readonly requests: number;
  /** Resolves once the feed has ended and left nothing running; never rejects. */
  readonly done: Promise<void>;
  /** Adds a listener; it hears the latest result at once, so a late watcher starts where the room is. */
  add(listener: SourceListener): void;
  /** Removes a listener; the last one out stops the feed. */
  remove(listener: SourceListener): void;
  stop(): void;
}

export class PushFeed implements RoomFeed {
  readonly roomId: string;
  readonly requests = 0;
  readonly done: Promise<void>;
  readonly #listeners = new Set<SourceListener>();
  readonly #subscription: { unsubscribe(): Promise<void> };
  #last: { readonly result: PollResult; readonly at: number } | undefined;
  #stopped = false;
  #finish: () => void = () => undefined;

  constructor(source: PushSource, roomId: string) {
    this.roomId = roomId;
    this.done = new Promise<void>((resolve) => {
      this.#finish = resolve;
    });
    const fanOut: SourceListener = {
      onResult: (result, at) => {
        if (this.#stopped) return;
        this.#last = { result, at };
        for (const listener of [...this.#listeners]) listener.onResult(result, at);
      },
      onTransientFailure: (failure: TransientFailure) => {
        if (this.#stopped) return;
        for (const listener of [...this.#listeners]) listener.onTransientFailure(failure);
      },
      onFatal: (error, at) => {
        if (this.#stopped) return;
        const listeners = [...this.#listeners];
        this.stop();
        for (const listener of listeners) listener.onFatal(error, at);
      },
    };
    this.#subscription = source.subscribe(roomId, fanOut);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  add(listener: SourceListener): void {
    this.#listeners.add(listener);
    if (this.#last !== undefined) listener.onResult(this.#last.result, this.#last.at);
  }

  remove(listener: SourceListener): void {
    this.#listeners.delete(listener);
    if (this.#listeners.size === 0) this.stop();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    // A push source's unsubscribe must not reject; if it does, the feed still ends.
    this.#subscription.unsubscribe().then(this.#finish, this.#finish);
  }
}
