/**
 * Retry-After end to end: a real server sends the header in both forms, the real HTTP source parses
 * it, and the watcher's next look is scheduled on a fake clock exactly that far ahead.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HathoraHttpSource } from "../../src/providers/hathora/http-source.js";
import type { ActiveEvent, ErrorEvent } from "../../src/watch/events.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { json, scriptedServer } from "../helpers/http-server.js";

let server: Awaited<ReturnType<typeof scriptedServer>>;
beforeAll(async () => {
  server = await scriptedServer();
});
afterAll(async () => {
  await server.close();
});

const active = { additionalExposedPorts: [], exposedPort: { host: "h", port: 4242, transportType: "udp", name: "default" }, status: "active", roomId: "room-1" };

describe.each([
  ["seconds", (_now: number) => "7"],
  ["an HTTP date", (now: number) => new Date(now + 7_000).toUTCString()],
])("Retry-After as %s", (_name, header) => {
  it("schedules the next look exactly when the server asked", async () => {
    // The fake clock starts on a whole second, as HTTP dates have no milliseconds.
    const time = fakeClock(1_800_000_000_000);
    let answered = 0;
    server.handle((_req, res) => {
      answered++;
      if (answered === 1) json(res, 429, { message: "slow down" }, { "retry-after": header(time.fake.now) });
      else json(res, 200, active);
    });
    const fleet = new Fleet({ clock: time.clock, random: () => 0.5 });
    const source = new HathoraHttpSource({ appId: "app", baseUrl: server.url, clock: time.clock });
    const watcher = new RoomWatcher({ roomId: "room-1", source, fleet });
    const failed = new Promise<ErrorEvent>((resolve) => watcher.once("error", resolve));
    const ready = new Promise<ActiveEvent>((resolve) => watcher.once("active", resolve));
    watcher.start();
    const error = await failed;
    expect(error).toMatchObject({ attempt: 1, nextDelayMs: 7_000, error: { code: "RW_RATE_LIMITED", retryAfterMs: 7_000 } });
    await time.tick(6_999);
    expect(answered).toBe(1);
    await time.tick(1);
    expect((await ready).exposedPort.port).toBe(4242);
    expect(answered).toBe(2);
    await watcher.stop();
    expect(fleet.size).toBe(0);
    expect(time.timers()).toBe(0);
  });
});
