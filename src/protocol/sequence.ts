/**
 * The gateway protocol numbers each room's messages 1, 2, 3...: a snapshot says where the count
 * stands, every update and the ending take the next number. Whoever follows a room (a client of the
 * gateway, a gateway following another's room) checks each message against the last number applied.
 */

/**
 * `apply`: the next in sequence (or the first, when nothing has been applied yet); `stale`: already
 * applied or older, drop it; `gap`: one or more were missed, so resync from a snapshot.
 */
export type SequenceCheck = "apply" | "stale" | "gap";

/** Where `next` stands against `last`, the number last applied (undefined before the first). */
export function checkSequence(last: number | undefined, next: number): SequenceCheck {
  if (last === undefined) return "apply";
  if (next <= last) return "stale";
  return next === last + 1 ? "apply" : "gap";
}
