/**
 * The Edgegap source on the fleet's schedule, on a fake clock against a real server: a 429 pauses the
 * whole fleet with or without Retry-After (Edgegap documents neither), for every room.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgegapHttpSource } from "../../../src/providers/edgegap/http-source.js";
import type { ActiveEvent, ErrorEvent } from "../../../src/watch/events.js";
import { Fleet, type PausedEvent } from "../../../src/watch/fleet.js";
import { RoomWatcher } from "../../../src/watch/room-watcher.js";
import { fakeClock } from "../../helpers/fake-clock.js";
import { json, scriptedServer } from "../../helpers/http-server.js";

let server: Awaited<ReturnType<typeof scriptedServer>>;
beforeAll(async () => {
  server = await scriptedServer();
});
afterAll(async () => {
  await server.close();
});

const status = (id: string, current_status: string) => ({
  request_id: id,
  fqdn: `${id}.pr.edgegap.net`,
  public_ip: "10.0.0.1",
  current_status,
  running: current_status === "Status.READY",
  error: false,
  ports: { gameport: { external: 30001, internal: 7777, protocol: "UDP", name: "gameport" } },
});

describe.each([
  ["without Retry-After (the backoff: 500 ms at random 0.5 -> 375 ms)", undefined, 375],
  ["with Retry-After: 4", "4", 4_000],
])("an Edgegap 429 %s", (_name, retryAfter, pauseMs) => {
  it("pauses the whole fleet: neither room is looked at again before the pause ends", async () => {
    const time = fakeClock(1_800_000_000_000);
    const looks: Array<{ id: string; at: number }> = [];
    server.handle((req, res) => {
      const id = (req.url ?? "").split("/").at(-1) ?? "";
      looks.push({ id, at: time.fake.now });
      if (looks.length === 1) json(res, 429, { message: "Too Many Requests" }, retryAfter === undefined ? {} : { "retry-after": retryAfter });
      else json(res, 200, status(id, "Status.READY"));
    });
    const fleet = new Fleet({ clock: time.clock, random: () => 0.5 });
    const source = new EdgegapHttpSource({ token: "org-token-1234", portName: "gameport", baseUrl: server.url, clock: time.clock });
    const paused: PausedEvent[] = [];
    fleet.on("paused", (event) => paused.push(event));
    const first = new RoomWatcher({ roomId: "aaaaaaaaaaaa", source, fleet });
    const failed = new Promise<ErrorEvent>((resolve) => first.once("error", resolve));
    const firstActive = new Promise<ActiveEvent>((resolve) => first.once("active", resolve));
    first.start();
    const error = await failed;
    expect(error).toMatchObject({ attempt: 1, nextDelayMs: pauseMs, error: { code: "RW_RATE_LIMITED" } });
    expect(paused).toHaveLength(1);
    expect(paused[0]?.until).toBe(paused[0]!.at + pauseMs);
    // A second room asked for during the pause waits for it too.
    const second = new RoomWatcher({ roomId: "bbbbbbbbbbbb", source, fleet });
    const secondActive = new Promise<ActiveEvent>((resolve) => second.once("active", resolve));
    second.start();
    await time.tick(pauseMs - 1);
    expect(looks).toHaveLength(1);
    await time.tick(1);
    await Promise.all([firstActive, secondActive]);
    const start = looks[0]!.at;
    expect(looks.slice(1).every((look) => look.at >= start + pauseMs)).toBe(true);
    expect(looks.map((look) => look.id).sort()).toEqual(["aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"]);
    await Promise.all([first.stop(), second.stop()]);
    expect(fleet.size).toBe(0);
    expect(time.timers()).toBe(0);
  });
});
