/**
 * A room feed: the one upstream subscription of one room in a fleet, fanned out to every watcher of
 * that room. RoomPoll is the polling feed; PushFeed wraps a push source's subscription. Both keep
 * the latest result, so a watcher that joins late starts where the room is.
 */
import type { PollResult } from "../core/observation.js";
import type { RoomSource, SourceListener, TransientFailure } from "../core/source.js";

export interface RoomFeed {
  readonly roomId: string;
  readonly source: RoomSource;
  readonly listenerCount: number;
  readonly stopped: boolean;
  /** Upstream requests made for this room (0 for push feeds). */
  readonly requests: number;
  /** Resolves once the feed has ended and left nothing running; never rejects. */
  readonly done: Promise<void>;
  /** Calls `hook` once the feed has ended (at once if it has): cheaper than `done` for whoever tracks thousands. */
  onEnded(hook: (feed: RoomFeed) => void): void;
  /** Adds a listener; it hears the latest result at once. */
  add(listener: SourceListener): void;
  /** Removes a listener; the last one out stops the feed. */
  remove(listener: SourceListener): void;
  stop(): void;
  /** Stops the feed and tells every listener it was closed. */
  close(at: number): void;
}

/** The fan-out both feeds share: listeners, the latest result, an observer that is not a listener, and `done`. */
export abstract class FanOut implements RoomFeed {
  readonly roomId: string;
  readonly source: RoomSource;
  abstract readonly requests: number;
  /** Hears everything, but does not keep the feed alive (the fleet's own view of the room). */
  readonly #observer: SourceListener | undefined;
  #listeners: SourceListener[] = [];
  #last: PollResult | undefined;
  #lastAt = 0;
  #stopped = false;
  #ended = false;
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;
  #endHook: ((feed: RoomFeed) => void) | undefined;

  constructor(source: RoomSource, roomId: string, observer: SourceListener | undefined) {
    this.source = source;
    this.roomId = roomId;
    this.#observer = observer;
  }

  get listenerCount(): number {
    return this.#listeners.length;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The latest result and when it came, if any. */
  protected get last(): PollResult | undefined {
    return this.#last;
  }

  get done(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#done ??= new Promise<void>((resolve) => {
      this.#resolveDone = resolve;
    });
    return this.#done;
  }

  onEnded(hook: (feed: RoomFeed) => void): void {
    if (this.#ended) hook(this);
    else this.#endHook = hook;
  }

  add(listener: SourceListener): void {
    this.#listeners.push(listener);
    if (this.#last !== undefined) listener.onResult(this.#last, this.#lastAt);
  }

  remove(listener: SourceListener): void {
    const index = this.#listeners.indexOf(listener);
    if (index !== -1) this.#listeners.splice(index, 1);
    if (this.#listeners.length === 0) this.stop();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.onStop();
  }

  /** Tears down upstream work; call `ended()` once nothing is left running. */
  protected abstract onStop(): void;

  protected ended(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#resolveDone?.();
    this.#endHook?.(this);
  }

  protected deliver(result: PollResult, at: number): void {
    if (this.#stopped) return;
    this.#last = result;
    this.#lastAt = at;
    this.#observer?.onResult(result, at);
    for (const listener of [...this.#listeners]) listener.onResult(result, at);
  }

  protected deliverFailure(failure: TransientFailure): void {
    if (this.#stopped) return;
    this.#observer?.onTransientFailure(failure);
    for (const listener of [...this.#listeners]) listener.onTransientFailure(failure);
  }

  /** Stops the feed for everyone on it (the fleet is closing): each listener hears `onClosed`. */
  close(at: number): void {
    if (this.#stopped) return;
    const listeners = [...this.#listeners];
    this.stop();
    for (const listener of listeners) listener.onClosed?.(at);
  }

  /** A terminal error: the feed stops, and everyone hears why. */
  protected deliverFatal(error: unknown, at: number): void {
    if (this.#stopped) return;
    const listeners = [...this.#listeners];
    this.stop();
    this.#observer?.onFatal(error, at);
    for (const listener of listeners) listener.onFatal(error, at);
  }
}
