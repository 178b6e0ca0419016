/**
 * The dashboard's last events (rooms reaching a status, pauses after a 429), each with a sequence
 * number so a page polling with `since` receives each event once. Bounded: the oldest go first.
 */

export type DashboardEventKind = "starting" | "active" | "moved" | "ended" | "paused";

export interface DashboardEvent {
  /** 1, 2, 3... in the order the gateway learned them. */
  readonly seq: number;
  /** Clock ms. */
  readonly at: number;
  readonly kind: DashboardEventKind;
  /** The room it is about (for `paused`, the room whose request met the 429). */
  readonly roomId: string;
  /** An ended room's reason; a moved room's new address; a pause's end (ISO time). */
  readonly detail: string | undefined;
}

export class EventLog {
  readonly #capacity: number;
  readonly #events: DashboardEvent[] = [];
  #seq = 0;

  /** Keeps the latest `capacity` events. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(event: Omit<DashboardEvent, "seq">): void {
    this.#events.push(Object.freeze({ seq: ++this.#seq, ...event }));
    if (this.#events.length > this.#capacity) this.#events.shift();
  }

  /** The sequence number of the latest event; 0 before any. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** The events kept with a sequence number above `seq`, oldest first. */
  since(seq: number): readonly DashboardEvent[] {
    const first = this.#events.findIndex((event) => event.seq > seq);
    return first === -1 ? [] : this.#events.slice(first);
  }
}
