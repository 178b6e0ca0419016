/**
 * Emitting so that a listener that throws cannot break the emitter: the caller has committed its
 * state before it emits, and a listener's error is reported (listener-warning.ts) instead of
 * reaching the caller. The one safe emit of the library, typed by the emitter's event map.
 */
import { warnListenerThrew } from "./listener-warning.js";

/** Something that emits event `K` with the listener arguments `Args` (a labelled tuple, `[event: ActiveEvent]`). */
export interface Emitter<K extends string, Args extends readonly unknown[]> {
  readonly emit: (name: K, ...args: Args) => boolean;
}

type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * Something that emits every event of the map `Events` (`{ active: [event: ActiveEvent]; ... }`): an
 * eventemitter3 `EventEmitter<Events>`, or one of a wider map.
 */
export type EmitterOf<Events> = Intersection<{ [K in keyof Events & string]: Events[K] extends readonly unknown[] ? Emitter<K, Events[K]> : never }[keyof Events & string]>;

/**
 * Emits `name` with `args` on `target`, which must take exactly those arguments for that event; a
 * listener's exception becomes a warning (code RW_LISTENER_THREW) instead of reaching the caller.
 */
export function safeEmit<K extends string, Args extends readonly unknown[]>(target: Emitter<NoInfer<K>, NoInfer<Args>>, name: K, ...args: Args): void {
  try {
    target.emit(name, ...args);
  } catch (error) {
    warnListenerThrew(name, error);
  }
}
