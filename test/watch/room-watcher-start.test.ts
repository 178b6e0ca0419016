/** RoomWatcher.start() when the source cannot even subscribe: the watch fails, nothing is left behind. */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import type { PushSource } from "../../src/core/source.js";
import type { TerminatedEvent } from "../../src/watch/events.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { fakeClock } from "../helpers/fake-clock.js";

describe("RoomWatcher.start with a push source that throws as it subscribes", () => {
  it("ends the watch as failed with that error, and keeps no deadline timer and no abort listener", async () => {
    const time = fakeClock();
    const fleet = new Fleet({ clock: time.clock });
    const controller = new AbortController();
    const broken = new Error("cannot subscribe");
    const source: PushSource = {
      kind: "push",
      key: "broken-push",
      target: (roomId) => ({ name: "the broken gateway", url: `ws://broken/${roomId}` }),
      subscribe: () => {
        throw broken;
      },
    };
    const watcher = new RoomWatcher({ roomId: "room1", source, fleet, signal: controller.signal, timeoutMs: 5_000 });
    const ended: TerminatedEvent[] = [];
    watcher.on("terminated", (event) => ended.push(event));
    expect(() => watcher.start()).not.toThrow();
    expect(watcher.state).toMatchObject({ status: "terminated", reason: "failed", cause: broken });
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ reason: "failed", cause: broken, evidence: { failedLooks: 1, lastError: broken } });
    expect({ clockTimers: time.timers(), heapTimers: fleet.timers.size, feeds: fleet.size, abortListeners: getEventListeners(controller.signal, "abort").length }).toEqual({
      clockTimers: 0,
      heapTimers: 0,
      feeds: 0,
      abortListeners: 0,
    });
    await watcher.stop();
    await fleet.close();
  });
});
