import { EventEmitter } from "eventemitter3";
import { describe, expect, it } from "vitest";
import { type EmitterOf, safeEmit } from "../../src/core/safe-emit.js";

interface Narrow {
  a: [event: { readonly x: number }];
  b: [event: { readonly y: string }];
}
interface Wide extends Narrow {
  c: [event: { readonly z: boolean }];
}

/** Runs `body` and collects the process warnings it raised (emitWarning delivers them on a later tick). */
async function warningsOf(body: () => void): Promise<Error[]> {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on("warning", onWarning);
  try {
    body();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", onWarning);
  }
  return warnings;
}

describe("safeEmit", () => {
  it("delivers the payload to every listener of the event", () => {
    const emitter = new EventEmitter<Narrow>();
    const seen: unknown[] = [];
    emitter.on("a", (event) => seen.push(["first", event.x]));
    emitter.on("a", (event) => seen.push(["second", event.x]));
    emitter.on("b", (event) => seen.push(["b", event.y]));
    safeEmit(emitter, "a", { x: 7 });
    expect(seen).toEqual([["first", 7], ["second", 7]]);
  });

  it("turns a listener's exception into a RW_LISTENER_THREW warning naming the event, and returns normally", async () => {
    const emitter = new EventEmitter<Narrow>();
    emitter.on("b", () => {
      throw new Error("listener bug");
    });
    let returned = false;
    const warnings = await warningsOf(() => {
      safeEmit(emitter, "b", { y: "s" });
      returned = true;
    });
    expect(returned).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('"b" listener threw: listener bug');
    expect((warnings[0] as Error & { code?: string }).code).toBe("RW_LISTENER_THREW");
  });

  it("is typed by the emitter's event map (checked by npm run typecheck)", () => {
    const narrow = new EventEmitter<Narrow>();
    const wide = new EventEmitter<Wide>();
    safeEmit(wide, "c", { z: true });
    safeEmit(wide, "a", { x: 1 });
    // A wider emitter serves where a narrower map is asked for (a Fleet as a room view's emitter).
    const asNarrow: EmitterOf<Narrow> = wide;
    safeEmit(asNarrow, "a", { x: 1 });
    safeEmit(asNarrow, "b", { y: "s" });
    // @ts-expect-error the payload of another event, through EmitterOf (whichever event comes first)
    safeEmit(asNarrow, "a", { y: "s" });
    // @ts-expect-error the payload of another event, through EmitterOf (whichever event comes last)
    safeEmit(asNarrow, "b", { x: 1 });
    // @ts-expect-error the payload of another event
    safeEmit(narrow, "a", { y: "s" });
    // @ts-expect-error a payload field of the wrong type
    safeEmit(narrow, "a", { x: "1" });
    // @ts-expect-error an event the emitter does not have
    safeEmit(narrow, "c", { z: true });
    // @ts-expect-error no payload
    safeEmit(narrow, "a");
    // @ts-expect-error one argument too many
    safeEmit(narrow, "a", { x: 1 }, 2);
    // @ts-expect-error through EmitterOf too
    safeEmit(asNarrow, "c", { z: true });
    // @ts-expect-error a narrower emitter does not emit every event of a wider map
    const asWide: EmitterOf<Wide> = narrow;
    void asWide;
    expect(narrow.listenerCount("a")).toBe(0);
  });
});
