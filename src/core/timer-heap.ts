/**
 * Many deadlines, one clock timer. A binary min-heap of due times; the clock holds a single timer
 * for the earliest one. Watching 100,000 rooms costs 100,000 heap entries, not 100,000 timers.
 * When nothing is pending no clock timer is held, so an idle process exits and a test can assert
 * that nothing is left.
 */
import type { Clock } from "./clock.js";
import { MinHeap } from "./min-heap.js";

export interface TimerHandle {
  /** When it fires (clock ms). */
  readonly dueAt: number;
  cancel(): void;
}

/** A pending timer is its own handle: no closure per timer, which matters at 100,000 rooms. */
class Entry implements TimerHandle {
  readonly dueAt: number;
  readonly seq: number;
  callback: (() => void) | undefined;
  readonly #owner: TimerHeap;

  constructor(owner: TimerHeap, dueAt: number, seq: number, callback: () => void) {
    this.#owner = owner;
    this.dueAt = dueAt;
    this.seq = seq;
    this.callback = callback;
  }

  cancel(): void {
    if (this.callback === undefined) return;
    this.callback = undefined;
    this.#owner.cancelled();
  }
}

export class TimerHeap {
  readonly #clock: Clock;
  readonly #heap = new MinHeap<Entry>(before);
  #live = 0;
  #seq = 0;
  #armed: { readonly handle: unknown; readonly dueAt: number } | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Timers not yet fired or cancelled. */
  get size(): number {
    return this.#live;
  }

  /** Run `callback` once, `delayMs` from now (at least on the next turn). */
  after(delayMs: number, callback: () => void): TimerHandle {
    return this.at(this.#clock.now() + Math.max(0, delayMs), callback);
  }

  at(dueAt: number, callback: () => void): TimerHandle {
    const entry = new Entry(this, dueAt, this.#seq++, callback);
    this.#heap.push(entry);
    this.#live++;
    this.#arm();
    return entry;
  }

  /** @internal Called by a timer's cancel(). */
  cancelled(): void {
    this.#live--;
    if (this.#live === 0) {
      this.#heap.clear();
      this.#disarm();
    }
  }

  /** Resolves after `delayMs`; rejects with `signal.reason` if the signal aborts first. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        timer.cancel();
        reject(signal?.reason as Error);
      };
      const timer = this.after(delayMs, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #fire = (): void => {
    this.#armed = undefined;
    const now = this.#clock.now();
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined || top.dueAt > now) break;
      this.#heap.pop();
      const callback = top.callback;
      if (callback === undefined) continue;
      top.callback = undefined;
      this.#live--;
      callback();
    }
    if (this.#live === 0) this.#heap.clear();
    this.#arm();
  };

  #arm(): void {
    // Drop cancelled entries at the top so we never arm for a deadline nobody waits on.
    while (this.#heap.size > 0 && this.#heap.peek()?.callback === undefined) this.#heap.pop();
    const top = this.#heap.peek();
    if (top === undefined) {
      this.#disarm();
      return;
    }
    if (this.#armed !== undefined && this.#armed.dueAt <= top.dueAt) return;
    this.#disarm();
    const delayMs = Math.max(0, top.dueAt - this.#clock.now());
    this.#armed = { handle: this.#clock.setTimeout(this.#fire, delayMs), dueAt: top.dueAt };
  }

  #disarm(): void {
    if (this.#armed === undefined) return;
    this.#clock.clearTimeout(this.#armed.handle);
    this.#armed = undefined;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}
