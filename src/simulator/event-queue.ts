/**
 * A simulated world's timeline: a binary min-heap of timed events, and the instant the world has
 * reached. Ties are broken by insertion order so that two events due at the same simulated instant
 * always run in the order they were scheduled: determinism depends on it. Every simulated host (the
 * Hathora world, the Agones and Edgegap worlds) moves through time with `run`.
 */

interface Entry<T> {
  readonly atMs: number;
  readonly seq: number;
  readonly event: T;
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

export class EventQueue<T> {
  readonly #heap: Entry<T>[] = [];
  #seq = 0;
  #clockMs = 0;

  /** The simulated instant the world has reached: the event being handled, or the last instant run to. */
  get clockMs(): number {
    return this.#clockMs;
  }

  /**
   * Moves the world to `nowMs` (never backwards; a non-finite `nowMs` stays put): every event due on the
   * way, in order, each handled at its own instant; then `step` at `nowMs`; then what `step` made due
   * already (a crash scheduled in the past, say); then `settle` (the world tells what changed).
   */
  run<R>(nowMs: number, handle: (event: T) => void, step: () => R, settle: () => void): R {
    const targetMs = Math.max(this.#clockMs, Number.isFinite(nowMs) ? nowMs : this.#clockMs);
    this.#advanceTo(targetMs, handle);
    const result = step();
    this.#advanceTo(targetMs, handle);
    settle();
    return result;
  }

  #advanceTo(targetMs: number, handle: (event: T) => void): void {
    for (let due = this.popDue(targetMs); due !== undefined; due = this.popDue(targetMs)) {
      this.#clockMs = due.atMs;
      handle(due.event);
    }
    this.#clockMs = targetMs;
  }

  get size(): number {
    return this.#heap.length;
  }

  push(atMs: number, event: T): void {
    const heap = this.#heap;
    heap.push({ atMs, seq: this.#seq++, event });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** When the earliest event is due, or undefined when nothing is scheduled. */
  peekAtMs(): number | undefined {
    return this.#heap[0]?.atMs;
  }

  /** Removes and returns the earliest event if it is due at or before `nowMs`. */
  popDue(nowMs: number): { atMs: number; event: T } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined || top.atMs > nowMs) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return { atMs: top.atMs, event: top.event };
  }
}
