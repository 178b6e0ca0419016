/** A push source plugs into the same fleet and watcher: one subscription per room, snapshot first. */
import { describe, expect, it } from "vitest";
import type { PollResult } from "../../src/core/observation.js";
import { HttpError, NetworkError } from "../../src/core/errors.js";
import type { PushSource, SourceListener } from "../../src/core/source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { active, starting } from "../helpers/scripted-source.js";

/** A push source whose test pushes by hand. */
class ManualPushSource implements PushSource {
  readonly kind = "push";
  readonly key = "manual";
  readonly listeners = new Map<string, SourceListener>();
  subscriptions = 0;
  unsubscriptions = 0;

  subscribe(roomId: string, listener: SourceListener) {
    this.subscriptions++;
    this.listeners.set(roomId, listener);
    return {
      unsubscribe: () => {
        this.unsubscriptions++;
        this.listeners.delete(roomId);
        return Promise.resolve();
      },
    };
  }

  push(roomId: string, result: PollResult, at = 0): void {
    this.listeners.get(roomId)?.onResult(result, at);
  }
}

describe("push sources", () => {
  it("many watchers of one room share one subscription, and the last one out ends it", async () => {
    const time = fakeClock();
    const fleet = new Fleet({ clock: time.clock });
    const source = new ManualPushSource();
    const watchers = Array.from({ length: 5 }, () => new RoomWatcher({ roomId: "r1", source, fleet }).start());
    expect(source.subscriptions).toBe(1);
    source.push("r1", starting);
    source.push("r1", active(9));
    expect(watchers.every((w) => w.connection?.exposedPort.port === 9)).toBe(true);
    const late = await waitForActive({ roomId: "r1", source, fleet });
    expect(late.exposedPort.port).toBe(9);
    await Promise.all(watchers.map((w) => w.stop()));
    expect(source.unsubscriptions).toBe(1);
    expect(fleet.size).toBe(0);
    expect(time.timers()).toBe(0);
  });

  it("transient failures become error events; a fatal one ends every watcher as failed", async () => {
    const time = fakeClock();
    const fleet = new Fleet({ clock: time.clock });
    const source = new ManualPushSource();
    const watcher = new RoomWatcher({ roomId: "r2", source, fleet });
    const errors: number[] = [];
    watcher.on("error", (e) => errors.push(e.attempt));
    watcher.start();
    source.listeners.get("r2")?.onTransientFailure({ error: new NetworkError("gateway gone"), attempt: 1, nextDelayMs: 100, at: 0 });
    source.listeners.get("r2")?.onFatal(new HttpError(401, "bad token"), 5);
    expect(errors).toEqual([1]);
    expect(watcher.state).toMatchObject({ status: "terminated", reason: "failed", cause: { status: 401 } });
    await watcher.stop();
    expect(source.unsubscriptions).toBe(1);
    expect(fleet.size).toBe(0);
  });
});
