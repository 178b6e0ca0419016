import { describe, expect, it } from "vitest";
import { checkSequence, type SequenceCheck } from "../../src/protocol/sequence.js";

describe("checkSequence", () => {
  const table: ReadonlyArray<[last: number | undefined, next: number, expected: SequenceCheck]> = [
    [undefined, 1, "apply"],
    [undefined, 7, "apply"],
    [undefined, 0, "apply"],
    [0, 1, "apply"],
    [4, 5, "apply"],
    [4, 4, "stale"],
    [4, 3, "stale"],
    [4, 0, "stale"],
    [0, 0, "stale"],
    [4, 6, "gap"],
    [0, 2, "gap"],
    [4, 1_000, "gap"],
  ];
  it.each(table)("last %s, next %s: %s", (last, next, expected) => {
    expect(checkSequence(last, next)).toBe(expected);
  });
});
