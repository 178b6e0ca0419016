/**
 * Edgegap deployments on a fleet's schedule, on a fake clock against a real server (the real source over
 * HTTP on loopback): a deployment's first look at once, then the scheduled delays; a 429, with or without
 * Retry-After (Edgegap documents neither), pausing every Edgegap look and no other source's; a webhook worth
 * exactly one verifying look, and a forged or replayed one no more than one budgeted request. Every test
 * ends with no timer left.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebhookError } from "../../../src/core/errors.js";
import type { PollingSource } from "../../../src/core/source.js";
import { EdgegapHttpSource } from "../../../src/providers/edgegap/http-source.js";
import { edgegapWebhookReceiver, edgegapWebhookUrl } from "../../../src/providers/edgegap/webhooks.js";
import type { ActiveEvent, ErrorEvent } from "../../../src/watch/events.js";
import { Fleet, type PausedEvent } from "../../../src/watch/fleet.js";
import { RoomWatcher } from "../../../src/watch/room-watcher.js";
import { fakeClock } from "../../helpers/fake-clock.js";
import { json, scriptedServer } from "../../helpers/http-server.js";
import { ScriptedSource, starting } from "../../helpers/scripted-source.js";
import { conditions } from "../../helpers/waiting.js";

let server: Awaited<ReturnType<typeof scriptedServer>>;
beforeAll(async () => {
  server = await scriptedServer();
});
afterAll(async () => {
  await server.close();
});

const TOKEN = "org-token-1234";
const SECRET = "whsec_schedule_0123456789";
/** As the gateway: a webhook brings a deployment's look forward at most once per this interval. */
const HINT_INTERVAL_MS = 1_000;

const status = (id: string, current_status: string) => ({
  request_id: id,
  fqdn: `${id}.pr.edgegap.net`,
  public_ip: "10.0.0.1",
  current_status,
  running: current_status === "Status.READY",
  error: false,
  ports: { gameport: { external: 30001, internal: 7777, protocol: "UDP", name: "gameport" } },
});

interface Look {
  readonly id: string;
  readonly at: number;
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/**
 * A fleet on a fake clock and the fake Edgegap's looks by deployment. The server answers each deployment
 * with its status in `statuses` (DEPLOYING unless set), or with `refuse()`'s 429s first. `answered(n)`
 * resolves once the fleet has taken in the n-th answer (every callback after it run), so a test may tick
 * on to the next scheduled look.
 */
function setUp(pollOptions: { pollIntervalMs: number; activePollIntervalMs?: number }) {
  const time = fakeClock(1_800_000_000_000);
  const looks: Look[] = [];
  const statuses = new Map<string, string>();
  const refusals: Array<string | undefined> = [];
  server.handle((req, res) => {
    const id = (req.url ?? "").split("/").at(-1) ?? "";
    looks.push({ id, at: time.fake.now });
    if (refusals.length > 0) {
      const retryAfter = refusals.shift();
      json(res, 429, { message: "Too Many Requests" }, retryAfter === undefined ? {} : { "retry-after": retryAfter });
    } else json(res, 200, status(id, statuses.get(id) ?? "Status.DEPLOYING"));
  });
  const fleet = new Fleet({ clock: time.clock, random: () => 0.5, learn: false, pollIntervalMs: pollOptions.pollIntervalMs, maxPollIntervalMs: pollOptions.pollIntervalMs, activePollIntervalMs: pollOptions.activePollIntervalMs ?? 5_000 });
  const http = new EdgegapHttpSource({ token: TOKEN, portName: "gameport", baseUrl: server.url, clock: time.clock });
  let answers = 0;
  const taken = conditions();
  const source: PollingSource = {
    key: http.key,
    budget: http.budget,
    checkRoomId: (id) => http.checkRoomId(id),
    // Once the answer is in, the fleet takes it in on microtasks alone: the next turn of the event loop
    // finds it done.
    poll: (id, options) =>
      http.poll(id, options).finally(() =>
        setImmediate(() => {
          answers++;
          taken.notify();
        }),
      ),
  };
  const watchers: RoomWatcher[] = [];
  const watch = (roomId: string, on: PollingSource = source): RoomWatcher => {
    const watcher = new RoomWatcher({ roomId, source: on, fleet });
    watchers.push(watcher);
    return watcher;
  };
  const paused: PausedEvent[] = [];
  fleet.on("paused", (event) => paused.push(event));
  cleanup = async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    await fleet.close();
    expect(fleet.size).toBe(0);
    expect(time.timers()).toBe(0);
  };
  const edgegapLane = () => fleet.scheduler.lanes.find((lane) => lane.key === http.budget.key);
  return {
    time,
    fleet,
    source,
    looks,
    statuses,
    refusals,
    watch,
    paused,
    edgegapLane,
    answered: (n: number) => taken.until(() => answers >= n),
    looksOf: (id: string) => looks.filter((l) => l.id === id).map((l) => l.at),
  };
}

describe("an Edgegap deployment on the fleet's schedule", () => {
  it("is looked at once at once, then every pollIntervalMs while starting, then every activePollIntervalMs once READY", async () => {
    const s = setUp({ pollIntervalMs: 1_000, activePollIntervalMs: 5_000 });
    const t0 = s.time.clock.now();
    const watcher = s.watch("aaaaaaaaaaaa").start();
    await s.answered(1);
    expect(s.looks).toEqual([{ id: "aaaaaaaaaaaa", at: t0 }]);
    expect(watcher.status).toBe("starting");
    await s.time.tick(999);
    expect(s.looks).toHaveLength(1);
    await s.time.tick(1);
    await s.answered(2);
    s.statuses.set("aaaaaaaaaaaa", "Status.READY");
    await s.time.tick(1_000);
    await s.answered(3);
    expect(watcher.status).toBe("active");
    await s.time.tick(4_999);
    expect(s.looks).toHaveLength(3);
    await s.time.tick(1);
    await s.answered(4);
    expect(s.looksOf("aaaaaaaaaaaa").map((at) => at - t0)).toEqual([0, 1_000, 2_000, 7_000]);
    // Every look went through Edgegap's budget in the fleet.
    expect(s.edgegapLane()?.started).toBe(4);
  });
});

describe.each([
  ["without Retry-After (the backoff: 500 ms at random 0.5 -> 375 ms)", undefined, 375],
  ["with Retry-After: 4", "4", 4_000],
])("an Edgegap 429 %s", (_name, retryAfter, pauseMs) => {
  it("pauses every Edgegap look until it ends, and no other source's", async () => {
    const s = setUp({ pollIntervalMs: 100 });
    s.refusals.push(retryAfter);
    // A room on another host in the same fleet, which declares no budget of its own.
    const other = new ScriptedSource([starting], () => s.time.clock.now(), "other-host");
    const first = s.watch("aaaaaaaaaaaa");
    const failed = new Promise<ErrorEvent>((resolve) => first.once("error", resolve));
    const firstActive = new Promise<ActiveEvent>((resolve) => first.once("active", resolve));
    s.statuses.set("aaaaaaaaaaaa", "Status.READY").set("bbbbbbbbbbbb", "Status.READY");
    first.start();
    s.watch("other-room", other).start();
    const error = await failed;
    const start = s.looks[0]!.at;
    expect(error).toMatchObject({ attempt: 1, nextDelayMs: pauseMs, error: { code: "RW_RATE_LIMITED" } });
    expect(s.paused).toHaveLength(1);
    expect(s.paused[0]).toMatchObject({ roomId: "aaaaaaaaaaaa", budget: s.source.budget?.key, until: start + pauseMs });
    // A second deployment asked for during the pause waits for it too.
    const second = s.watch("bbbbbbbbbbbb");
    const secondActive = new Promise<ActiveEvent>((resolve) => second.once("active", resolve));
    second.start();
    await s.time.tick(pauseMs - 1);
    expect(s.looks).toHaveLength(1);
    // The other host's room was looked at all the while, every 100 ms.
    expect(other.calls.length).toBe(Math.floor((pauseMs - 1) / 100) + 1);
    await s.time.tick(1);
    // At its end, the second deployment's first look (more urgent than a retry) at once; then Edgegap's
    // budget (16/s) spaces the first one's retry 62.5 ms later.
    await secondActive;
    await s.time.tick(63);
    await firstActive;
    expect(s.looks.slice(1).map((look) => [look.id, look.at - start])).toEqual([
      ["bbbbbbbbbbbb", pauseMs],
      ["aaaaaaaaaaaa", pauseMs + 63],
    ]);
    expect(s.looks.map((look) => look.id).sort()).toEqual(["aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"]);
  });
});

describe("Edgegap webhooks as hints to the fleet", () => {
  /** What the gateway does with a webhook: read it with the receiver, then bring the deployment's look forward. */
  function webhook(s: ReturnType<typeof setUp>, path: string, body: unknown): boolean | undefined {
    const requestId = edgegapWebhookReceiver(SECRET).read(path, JSON.stringify(body));
    return s.fleet.bringForward(requestId, s.source, HINT_INTERVAL_MS);
  }
  const pathOf = (event: "ready" | "error" | "terminated") => new URL(edgegapWebhookUrl("http://gateway.example", SECRET, event)).pathname;

  it("a ready webhook is worth exactly one verifying look, at once: active a minute before the next poll", async () => {
    const s = setUp({ pollIntervalMs: 60_000 });
    const watcher = s.watch("aaaaaaaaaaaa").start();
    await s.answered(1);
    await s.time.tick(10_000);
    s.statuses.set("aaaaaaaaaaaa", "Status.READY");
    const active = new Promise<ActiveEvent>((resolve) => watcher.once("active", resolve));
    const at = s.time.clock.now();
    expect(webhook(s, pathOf("ready"), status("aaaaaaaaaaaa", "Status.READY"))).toBe(true);
    await s.answered(2);
    await active;
    expect(s.looksOf("aaaaaaaaaaaa")).toEqual([at - 10_000, at]);
    // Nothing more until the schedule's next look (active: 5 s on).
    await s.time.tick(4_999);
    expect(s.looks).toHaveLength(2);
    expect(s.edgegapLane()?.started).toBe(2);
  });

  it("a forged ready webhook costs one budgeted look and changes nothing; replays cost at most one more per hint interval; a wrong secret costs nothing", async () => {
    const s = setUp({ pollIntervalMs: 60_000 });
    const watcher = s.watch("aaaaaaaaaaaa").start();
    const events: string[] = [];
    for (const name of ["status", "starting", "active", "terminated"] as const) watcher.on(name, () => events.push(name));
    await s.answered(1);
    events.length = 0;
    await s.time.tick(10_000);
    const forged = status("aaaaaaaaaaaa", "Status.READY");
    expect(webhook(s, pathOf("ready"), forged)).toBe(true);
    await s.answered(2);
    // Replayed at once and all through the hint interval: one more look, held to the interval's end.
    expect(webhook(s, pathOf("ready"), forged)).toBe(true);
    for (let i = 0; i < 20; i++) expect(webhook(s, pathOf("ready"), forged)).toBe(false);
    await s.time.tick(HINT_INTERVAL_MS - 1);
    expect(s.looks).toHaveLength(2);
    await s.time.tick(1);
    await s.answered(3);
    expect(s.looksOf("aaaaaaaaaaaa").map((at) => at - s.looks[1]!.at)).toEqual([-10_000, 0, HINT_INTERVAL_MS]);
    // And none after it until the schedule's.
    await s.time.tick(30_000);
    expect(s.looks).toHaveLength(3);
    // The Edgegap API said DEPLOYING: the webhook's claim changed nothing.
    expect(watcher.status).toBe("starting");
    expect(events).toEqual([]);
    // A wrong secret is refused before anything is read or asked.
    expect(() => webhook(s, pathOf("ready").replace(SECRET, "whsec_wrong_0123456789"), forged)).toThrow(WebhookError);
    expect(s.looks).toHaveLength(3);
    expect(s.edgegapLane()?.started).toBe(3);
    expect(s.fleet.stats.requests).toBe(3);
  });
});
