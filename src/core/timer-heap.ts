/**
 * Many deadlines, one clock timer. A binary min-heap of due times; the clock holds a single timer
 * for the earliest one. Watching 100,000 rooms costs 100,000 heap entries, not 100,000 timers.
 * When nothing is pending no clock timer is held, so an idle process exits and a test can assert
 * that nothing is left.
 */
import type { Clock } from "./clock.js";

export interface TimerHandle {
  cancel(): void;
}

interface Entry {
  readonly dueAt: number;
  readonly seq: number;
  callback: (() => void) | undefined;
}

export class TimerHeap {
  readonly #clock: Clock;
  #heap: Entry[] = [];
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
    const entry: Entry = { dueAt, seq: this.#seq++, callback };
    this.#push(entry);
    this.#live++;
    this.#arm();
    return {
      cancel: () => {
        if (entry.callback === undefined) return;
        entry.callback = undefined;
        this.#live--;
        if (this.#live === 0) {
          this.#heap = [];
          this.#disarm();
        }
      },
    };
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
      const top = this.#heap[0];
      if (top === undefined || top.dueAt > now) break;
      this.#pop();
      const callback = top.callback;
      if (callback === undefined) continue;
      top.callback = undefined;
      this.#live--;
      callback();
    }
    if (this.#live === 0) this.#heap = [];
    this.#arm();
  };

  #arm(): void {
    // Drop cancelled entries at the top so we never arm for a deadline nobody waits on.
    while (this.#heap[0] !== undefined && this.#heap[0].callback === undefined) this.#pop();
    const top = this.#heap[0];
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

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as Entry)) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Entry, heap[left] as Entry) ? right : left;
      if (!before(heap[child] as Entry, last)) break;
      heap[i] = heap[child] as Entry;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}
