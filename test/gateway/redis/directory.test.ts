/**
 * The shared room directory against a real redis-server, with the directories' own timers (claim
 * rounds, the wait before watching alone) on fake clocks: each claim round happens when the test
 * says. What the directory tells its hub is recorded and checked call by call. A lease "lapses" when
 * the test deletes it, as Redis would once its owner stopped renewing.
 */
import { getActiveResourcesInfo } from "node:process";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClusterError } from "../../../src/core/errors.js";
import { silentLogger } from "../../../src/gateway/logging.js";
import type { EndedMessage } from "../../../src/protocol/messages.js";
import { RedisRoomDirectory } from "../../../src/gateway/redis/directory.js";
import { claimDelayMs, type RedisLinkState, resolveRedisOptions } from "../../../src/gateway/redis/options.js";
import type { PublishedMessage, RoomDirectoryListener, RoomRecord, RoomView } from "../../../src/gateway/room-directory.js";
import { fakeClock } from "../../helpers/fake-clock.js";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.js";
import { resourcesLeftAfter } from "../../helpers/resources.js";

const PASSWORD = "s3cret-redis-pass";
/** Long enough that no lease lapses on its own during a test: the test deletes a lease to lapse it. */
const LEASE_TTL_MS = 60_000;
const ROUND_MS = claimDelayMs(LEASE_TTL_MS, () => 1);
const RECONNECT_MAX_DELAY_MS = 50;

let redis: RedisServer;
let inspect: Redis;
beforeAll(async () => {
  redis = await startRedisServer({ password: PASSWORD });
  inspect = new Redis(redis.url, { lazyConnect: true });
  await inspect.connect();
});
afterAll(async () => {
  await inspect.quit();
  await redis.stop();
});

type Call =
  | { type: "owned" | "following"; roomId: string; record: RoomRecord | undefined }
  | { type: "message"; roomId: string; message: PublishedMessage }
  | { type: "ended"; roomId: string; message: EndedMessage }
  | { type: "hinted"; roomId: string };

/** A hub stand-in: records every call, and answers `view` with what the test sets. */
class Recorder implements RoomDirectoryListener {
  readonly calls: Call[] = [];
  readonly views = new Map<string, RoomView>();
  readonly #waiters = new Set<{ matches: (call: Call) => boolean; resolve: (call: Call) => void }>();

  owned(roomId: string, record: RoomRecord | undefined): void {
    this.#record({ type: "owned", roomId, record });
  }
  following(roomId: string, record: RoomRecord | undefined): void {
    this.#record({ type: "following", roomId, record });
  }
  message(roomId: string, message: PublishedMessage): void {
    this.#record({ type: "message", roomId, message });
  }
  ended(roomId: string, message: EndedMessage): void {
    this.#record({ type: "ended", roomId, message });
  }
  hinted(roomId: string): void {
    this.#record({ type: "hinted", roomId });
  }
  view(roomId: string): RoomView | undefined {
    return this.views.get(roomId);
  }

  /** The next call (from now on) that matches. */
  next(matches: (call: Call) => boolean): Promise<Call> {
    return new Promise((resolve) => this.#waiters.add({ matches, resolve }));
  }

  #record(call: Call): void {
    this.calls.push(call);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.matches(call)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(call);
    }
  }
}

interface Node {
  readonly directory: RedisRoomDirectory;
  readonly hub: Recorder;
  /** Every change of the link to Redis so far. */
  readonly links: RedisLinkState[];
  /** Resolves once the link has reported `state` (now or before). */
  link(state: RedisLinkState): Promise<void>;
  readonly clock: ReturnType<typeof fakeClock>;
  /** Runs one claim round now and waits for its answers. */
  round(): Promise<void>;
}

const open: Node[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((node) => node.directory.close()));
  await redis.ensureRunning();
  await inspect.flushall();
});

let prefixes = 0;
async function cluster(size: number): Promise<Node[]> {
  const keyPrefix = `t${++prefixes}:`;
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    const clock = fakeClock();
    const hub = new Recorder();
    const links: RedisLinkState[] = [];
    const waiters = new Set<{ state: RedisLinkState; resolve: () => void }>();
    const directory = await RedisRoomDirectory.connect({
      redis: resolveRedisOptions({ url: redis.url, leaseTtlMs: LEASE_TTL_MS, keyPrefix, instanceId: `n${i}`, maxReconnectDelayMs: RECONNECT_MAX_DELAY_MS }),
      upstreamKey: "upstream",
      clock: clock.clock,
      logger: silentLogger,
      onLink: (state) => {
        links.push(state);
        for (const waiter of [...waiters]) {
          if (waiter.state !== state) continue;
          waiters.delete(waiter);
          waiter.resolve();
        }
      },
      random: () => 1,
    });
    directory.attach(hub);
    const node: Node = {
      directory,
      hub,
      links,
      link: (state) => (links.includes(state) ? Promise.resolve() : new Promise((resolve) => waiters.add({ state, resolve }))),
      clock,
      round: async () => {
        await clock.tick(ROUND_MS);
        await directory.settled();
      },
    };
    open.push(node);
    nodes.push(node);
  }
  return nodes;
}

function snapshotOf(roomId: string, seq: number, port: number | undefined): RoomView {
  const result =
    port === undefined
      ? { observation: { kind: "starting" as const }, warnings: [] }
      : { observation: { kind: "active" as const, connection: { exposedPort: { host: "h", port, transportType: "tcp", name: "default" }, additionalExposedPorts: [] } }, warnings: [] };
  const fingerprint = port === undefined ? "starting" : `active:${JSON.stringify([["h", port, "tcp", "default"]])}`;
  return { seq, fingerprint, snapshot: JSON.stringify({ type: "snapshot", roomId, seq, result, at: 1_000 + seq }) };
}

function update(roomId: string, seq: number, port: number): PublishedMessage {
  const view = JSON.parse(snapshotOf(roomId, seq, port).snapshot ?? "") as { result: Extract<PublishedMessage, { type: "update" }>["result"] };
  return { type: "update", roomId, seq, result: view.result, at: 1_000 + seq };
}

/** The owner's change, as the hub makes it: its view first, then the publish. */
function change(node: Node, roomId: string, seq: number, port: number): PublishedMessage {
  node.hub.views.set(roomId, snapshotOf(roomId, seq, port));
  const message = update(roomId, seq, port);
  node.directory.publish(roomId, message, JSON.stringify(message));
  return message;
}

/** The owner's change, resolved once the follower has heard it. */
async function changeHeard(owner: Node, follower: Node, roomId: string, seq: number, port: number): Promise<void> {
  const heard = follower.hub.next((c) => c.type === "message" && c.roomId === roomId);
  change(owner, roomId, seq, port);
  await heard;
}

/** The nodes join the room one after the other, each once the one before has settled: the first owns it. */
async function joinInTurn(roomId: string, ...nodes: Node[]): Promise<void> {
  for (const node of nodes) {
    node.directory.join(roomId);
    await node.directory.settled();
  }
}

async function leaseOf(roomId: string): Promise<string | null> {
  const keys = await inspect.keys(`*{${roomId}}:lease`);
  return keys[0] === undefined ? null : inspect.get(keys[0]);
}

async function lapse(roomId: string): Promise<void> {
  const keys = await inspect.keys(`*{${roomId}}:lease`);
  if (keys.length > 0) await inspect.del(...keys);
}

describe("RedisRoomDirectory", () => {
  it("one owner per room, the others follow its messages; a hint reaches the owner; a release hands the room over at once", async () => {
    const [a, b] = await cluster(2);
    if (a === undefined || b === undefined) throw new Error("no nodes");
    const ownedA = a.hub.next((c) => c.roomId === "r1");
    a.directory.join("r1");
    expect(await ownedA).toEqual({ type: "owned", roomId: "r1", record: undefined });
    expect(await leaseOf("r1")).toBe("n0");

    const followingB = b.hub.next((c) => c.roomId === "r1");
    b.directory.join("r1");
    expect(await followingB).toEqual({ type: "following", roomId: "r1", record: undefined });

    // The owner's change reaches the follower, and is stored for whoever joins next.
    const heard = b.hub.next((c) => c.type === "message");
    const sent = change(a, "r1", 1, 7001);
    expect(await heard).toEqual({ type: "message", roomId: "r1", message: sent });

    const hinted = a.hub.next((c) => c.type === "hinted");
    expect(b.directory.hint("r1")).toBe(true);
    expect(await hinted).toEqual({ type: "hinted", roomId: "r1" });
    // The hint came after the owner's own message on the channel, so that had reached the owner too:
    // it does not hear itself.
    expect(a.hub.calls.filter((c) => c.type === "message")).toEqual([]);

    // A claim round: the owner renews, the follower (in step) hears nothing new.
    const callsBefore = [a.hub.calls.length, b.hub.calls.length];
    await Promise.all([a.round(), b.round()]);
    expect([a.hub.calls.length, b.hub.calls.length]).toEqual(callsBefore);
    expect(await inspect.pttl((await inspect.keys("*{r1}:lease"))[0] ?? "")).toBeGreaterThan(LEASE_TTL_MS - 5_000);

    // The follower is in step (its view is the stored one): it takes over without a resync.
    b.hub.views.set("r1", snapshotOf("r1", 1, 7001));
    const takeover = b.hub.next((c) => c.type === "owned");
    a.directory.leave("r1");
    expect(await takeover).toEqual({ type: "owned", roomId: "r1", record: undefined });
    await a.directory.settled();
    expect(await leaseOf("r1")).toBe("n1");
  });

  it("claims many rooms in batches (more than one script call), answering each room by itself", async () => {
    const [a, b] = await cluster(2);
    if (a === undefined || b === undefined) throw new Error("no nodes");
    const roomIds = Array.from({ length: 250 }, (_, i) => `batch-${i}`);
    // a joins the even rooms first, b the odd ones; then each joins the rest.
    for (const roomId of roomIds.filter((_, i) => i % 2 === 0)) a.directory.join(roomId);
    for (const roomId of roomIds.filter((_, i) => i % 2 === 1)) b.directory.join(roomId);
    await Promise.all([a.directory.settled(), b.directory.settled()]);
    for (const roomId of roomIds.filter((_, i) => i % 2 === 1)) a.directory.join(roomId);
    for (const roomId of roomIds.filter((_, i) => i % 2 === 0)) b.directory.join(roomId);
    await Promise.all([a.directory.settled(), b.directory.settled()]);
    const answers = (node: Node) => new Map(node.hub.calls.map((c) => [c.roomId, c.type]));
    roomIds.forEach((roomId, i) => {
      expect(answers(a).get(roomId), roomId).toBe(i % 2 === 0 ? "owned" : "following");
      expect(answers(b).get(roomId), roomId).toBe(i % 2 === 0 ? "following" : "owned");
    });
    // A round renews all 250 rooms, and answers nothing (all in step).
    const before = [a.hub.calls.length, b.hub.calls.length];
    await Promise.all([a.round(), b.round()]);
    expect([a.hub.calls.length, b.hub.calls.length]).toEqual(before);
  });

  it("a follower whose owner stopped renewing takes the room over at its next round, the state where the owner left it", async () => {
    const [a, b] = await cluster(2);
    if (a === undefined || b === undefined) throw new Error("no nodes");
    await joinInTurn("r2", a, b);
    change(a, "r2", 1, 7001);
    change(a, "r2", 2, 7002);
    await a.directory.settled();
    await b.directory.settled();

    // The owner dies (it never renews again); b never heard seq 2 (its view stays at 1).
    b.hub.views.set("r2", snapshotOf("r2", 1, 7001));
    await b.round();
    expect(b.hub.calls.filter((c) => c.type === "owned")).toEqual([]);
    await lapse("r2");
    const taken = b.hub.next((c) => c.type === "owned");
    await b.round();
    // It owns the room, and adopts the state the owner stored (seq 2), not its own.
    expect(await taken).toMatchObject({ type: "owned", roomId: "r2", record: { seq: 2, result: { observation: { kind: "active" } } } });
    expect(await leaseOf("r2")).toBe("n1");
  });

  it("a follower claims a room the moment the owner's lease lapses, without waiting for its next round; closing it leaves no timer", async () => {
    const [a, b, c] = await cluster(3);
    if (a === undefined || b === undefined || c === undefined) throw new Error("no nodes");
    await joinInTurn("r7", a, b, c);
    change(a, "r7", 1, 7001);
    await a.directory.settled();
    // The owner renews no more, and its lease has 5 s left: a round of each follower learns that.
    const [lease] = await inspect.keys("*{r7}:lease");
    if (lease === undefined) throw new Error("no lease");
    await inspect.pexpire(lease, 5_000);
    await b.round();
    await c.round();
    const told = b.clock.elapsed();
    // Redis drops the lease when its time is up (here the test does, on the followers' clocks).
    await lapse("r7");
    await b.clock.tick(4_990);
    await b.directory.settled();
    expect(await leaseOf("r7")).toBeNull();
    expect(b.hub.calls.filter((call) => call.type === "owned")).toEqual([]);
    await b.clock.tick(20);
    await b.directory.settled();
    expect(b.hub.calls.filter((call) => call.type === "owned")).toMatchObject([{ roomId: "r7", record: { seq: 1 } }]);
    expect(await leaseOf("r7")).toBe("n1");
    // Within the lease's 5 s, long before b's next round.
    expect(b.clock.elapsed() - told).toBeLessThanOrEqual(5_010);
    expect(b.clock.elapsed() - told).toBeLessThan(ROUND_MS);

    // c's lapse claim fires too, finds b's new lease, and follows on (re-armed for that lease).
    await c.clock.tick(5_010);
    await c.directory.settled();
    expect(c.hub.calls.filter((call) => call.type === "owned")).toEqual([]);
    expect(await leaseOf("r7")).toBe("n1");
    expect(c.clock.timers()).toBe(1);
    await c.directory.close();
    expect(c.clock.timers()).toBe(0);
  });

  it("a follower found behind by a round resyncs only if the next round finds it still behind (messages may be on their way)", async () => {
    const [a, b] = await cluster(2);
    if (a === undefined || b === undefined) throw new Error("no nodes");
    await joinInTurn("r3", a, b);
    await changeHeard(a, b, "r3", 1, 7001);
    const before = b.hub.calls.length;

    // b's hub has not applied seq 1 (its view says 0): the first round only notes it...
    await b.round();
    expect(b.hub.calls.length).toBe(before);
    // ...and if the hub catches up meanwhile, nothing more happens.
    b.hub.views.set("r3", snapshotOf("r3", 1, 7001));
    await b.round();
    expect(b.hub.calls.length).toBe(before);

    // Behind again (seq 2 stored, b at 1), and still behind a round later: resync from the stored state.
    await changeHeard(a, b, "r3", 2, 7002);
    await b.round();
    expect(b.hub.calls.length).toBe(before + 1);
    await b.round();
    expect(b.hub.calls.slice(before + 1)).toMatchObject([{ type: "following", roomId: "r3", record: { seq: 2 } }]);
  });

  it("a routine claim that left before the owner's message and is answered after it changes nothing", async () => {
    const [a, b] = await cluster(2);
    if (a === undefined || b === undefined) throw new Error("no nodes");
    await joinInTurn("r6", a, b);
    await changeHeard(a, b, "r6", 1, 7001);
    b.hub.views.set("r6", snapshotOf("r6", 1, 7001));
    await changeHeard(a, b, "r6", 2, 7002);
    // b's claim carries seq 1 (the hub had not applied seq 2 when it left); by its answer the hub has.
    const caughtUp = snapshotOf("r6", 2, 7002);
    const asked = [snapshotOf("r6", 1, 7001), caughtUp];
    const view = b.hub.view.bind(b.hub);
    b.hub.view = (roomId) => (roomId === "r6" ? (asked.shift() ?? caughtUp) : view(roomId));
    const before = b.hub.calls.length;
    await b.round();
    expect(asked).toEqual([]);
    expect(b.hub.calls.length).toBe(before);
    // Nor did it count b as behind: the next round, still at seq 2, is silent too.
    await b.round();
    expect(b.hub.calls.length).toBe(before);
  });

  it("two instances with the same sequence number but different states: the follower takes the stored one at once", async () => {
    const [a, b] = await cluster(2);
    if (a === undefined || b === undefined) throw new Error("no nodes");
    a.hub.views.set("r4", snapshotOf("r4", 5, 7005));
    a.directory.join("r4");
    await a.directory.settled();
    // b numbered its changes apart (it watched alone): seq 5 is "starting" for it.
    b.hub.views.set("r4", snapshotOf("r4", 5, undefined));
    const answer = b.hub.next((c) => c.roomId === "r4");
    b.directory.join("r4");
    expect(await answer).toMatchObject({ type: "following", record: { seq: 5, result: { observation: { kind: "active" } } } });
    // Routine rounds after that: in step, silent.
    b.hub.views.set("r4", snapshotOf("r4", 5, 7005));
    const before = b.hub.calls.length;
    await b.round();
    expect(b.hub.calls.length).toBe(before);
  });

  it("an ended room is remembered: an instance that has not heard concludes it instead of watching it", async () => {
    const [a, b, c] = await cluster(3);
    if (a === undefined || b === undefined || c === undefined) throw new Error("no nodes");
    await joinInTurn("r5", a, b);
    const ended: EndedMessage = { type: "ended", roomId: "r5", seq: 3, reason: "destroyed", at: 9 };
    const heard = b.hub.next((call) => call.type === "message");
    a.directory.publish("r5", ended, JSON.stringify(ended));
    a.directory.leave("r5");
    expect(await heard).toEqual({ type: "message", roomId: "r5", message: ended });
    await a.directory.settled();
    expect(await leaseOf("r5")).toBeNull();

    // c joins after the end: its claim finds the tombstone, takes no lease, and says the room ended.
    const concluded = c.hub.next((call) => call.roomId === "r5");
    c.directory.join("r5");
    expect(await concluded).toEqual({ type: "ended", roomId: "r5", message: ended });
    // So does b's next round, had it missed the message.
    const again = b.hub.next((call) => call.type === "ended");
    await b.round();
    expect(await again).toEqual({ type: "ended", roomId: "r5", message: ended });
    expect(await leaseOf("r5")).toBeNull();
  });

  it("Redis gone: lost, then alone after a lease TTL (every room watched here), then back and resynced with one owner per room", async () => {
    const [a, b] = await cluster(2);
    if (a === undefined || b === undefined) throw new Error("no nodes");
    for (const roomId of ["x1", "x2"]) {
      await joinInTurn(roomId, a, b);
    }
    expect(b.hub.calls.map((c) => c.type)).toEqual(["following", "following"]);
    await redis.kill();
    await Promise.all([a, b].map((node) => node.link("lost")));
    expect(a.directory.connected).toBe(false);
    expect(b.directory.hint("x1")).toBe(false);

    // A lease TTL without Redis: b watches its rooms alone.
    await b.clock.tick(LEASE_TTL_MS);
    expect(b.links).toEqual(["lost", "alone"]);
    expect(b.hub.calls.slice(2)).toEqual([
      { type: "owned", roomId: "x1", record: undefined },
      { type: "owned", roomId: "x2", record: undefined },
    ]);

    // Back (empty): each room is claimed again. b, alone, learned x1 is active (seq 1); a knows nothing
    // of it: whichever instance owns x1 now, both end with b's state of it.
    b.hub.views.set("x1", snapshotOf("x1", 1, 7001));
    await redis.restart();
    await Promise.all([reconnect(a), reconnect(b)]);
    await Promise.all([a.link("resynced"), b.link("resynced")]);
    expect(b.links).toEqual(["lost", "alone", "back", "resynced"]);
    expect(a.links).toEqual(["lost", "back", "resynced"]);
    await Promise.all([a.round(), b.round()]);
    for (const roomId of ["x1", "x2"]) {
      const owner = await leaseOf(roomId);
      const last = [a, b].map((node) => node.hub.calls.filter((c) => c.roomId === roomId && (c.type === "owned" || c.type === "following")).at(-1)?.type);
      expect(last, roomId).toEqual(owner === "n0" ? ["owned", "following"] : ["following", "owned"]);
    }
    const x1 = a.hub.calls.filter((c) => c.roomId === "x1" && (c.type === "owned" || c.type === "following")).at(-1);
    expect(x1).toMatchObject({ record: { seq: 1, result: { observation: { kind: "active" } } } });
  });

  it("close() releases what it holds, and leaves no socket or timer, even with Redis gone", async () => {
    const resourcesBefore = getActiveResourcesInfo();
    const [a, b] = await cluster(2);
    if (a === undefined || b === undefined) throw new Error("no nodes");
    await joinInTurn("c1", a, b);
    const handover = b.hub.next((c) => c.type === "owned");
    await a.directory.close();
    await handover;
    expect(a.clock.timers()).toBe(0);

    await redis.kill();
    await b.link("lost");
    await b.directory.close();
    expect(b.clock.timers()).toBe(0);
    await b.directory.close();
    open.splice(0);
    await redis.restart();
    await inspect.ping();
    expect(await resourcesLeftAfter(resourcesBefore)).toEqual([]);
  });

  it.each([
    ["a wrong password", () => redis.url.replace(encodeURIComponent(PASSWORD), "wr0ng-passw0rd"), "wr0ng-passw0rd", /WRONGPASS/],
    ["nobody listening", () => `redis://:${PASSWORD}@127.0.0.1:1`, PASSWORD, /ECONNREFUSED/],
  ])("fails to start with ClusterError on %s, never echoing the password, leaving nothing behind", async (_name, url, secret, reason) => {
    const resourcesBefore = getActiveResourcesInfo();
    const clock = fakeClock();
    const error = await RedisRoomDirectory.connect({
      redis: resolveRedisOptions({ url: url(), connectTimeoutMs: 5_000 }),
      upstreamKey: "upstream",
      clock: clock.clock,
      logger: silentLogger,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClusterError);
    expect(error).toMatchObject({ code: "RW_CLUSTER", retryable: true });
    expect((error as Error).message).toMatch(/^could not reach Redis at redis:\/\/127\.0\.0\.1:\d+: /);
    expect((error as Error).message).toMatch(reason);
    expect(`${(error as Error).message} ${String((error as Error).stack)}`).not.toContain(secret);
    expect(clock.timers()).toBe(0);
    expect(await resourcesLeftAfter(resourcesBefore)).toEqual([]);
  });
});

/** Runs the node's reconnection attempts (on its fake clock) until it is back. */
async function reconnect(node: Node): Promise<void> {
  for (let turn = 0; !node.links.includes("back"); turn++) {
    if (turn === 10_000) throw new Error(`${node.directory.instanceId} did not reconnect to Redis: ${node.links.join(", ")}`);
    await node.clock.tick(RECONNECT_MAX_DELAY_MS);
    // The attempt's socket is real: let I/O run.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

