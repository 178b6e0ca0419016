/**
 * Ghost-room floods (issue 18, finding 1): connections subscribing rooms that do not exist, as fast as
 * they may. Through real sockets, on a fake clock: a legitimate room's first look and its detection stay
 * within 1.5x of their values with no attack; a connection holds at most so many rooms never seen; the
 * gateway at most so many rooms; a room that ended not_found is answered from memory, at no cost.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ServerMessage } from "../../../src/protocol/messages.js";
import { connectRaw, type RawClient } from "../../helpers/ws-client.js";
import { abuseGateway, eventually, metric } from "./abuse-gateway.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves once `count` messages matching `matches` have come. */
function nth(client: RawClient, count: number, matches: (m: ServerMessage) => boolean): Promise<ServerMessage> {
  return client.next(() => client.messages.filter(matches).length >= count);
}

const answered = (m: ServerMessage) => m.type === "snapshot" || m.type === "error";

/**
 * `attackers` connections each ask for 40 ghost rooms, then a player subscribes a room that turns active
 * 3 s later. Upstream budget: 20 requests a second, no burst. Returns when the room's first look and its
 * first look that saw it active happened, from the subscribe and from its activation.
 */
async function legitimateRoomUnder(attackers: number) {
  const t = await abuseGateway({ limits: { maxUnseenRoomsPerConnection: 32 } }, { maxRequestsPerSecond: 20, burst: 1 });
  const clients: RawClient[] = [];
  for (let a = 0; a < attackers; a++) {
    const attacker = await connectRaw(t.gateway.url);
    clients.push(attacker);
    for (let i = 0; i < 40; i++) attacker.send({ type: "subscribe", roomId: `ghost-${a}-${i}` });
    await nth(attacker, 40, answered);
  }
  const player = await connectRaw(t.gateway.url);
  clients.push(player);
  const subscribedAt = t.time.fake.now;
  const activeAt = subscribedAt + 3_000;
  t.upstream.activeAt.set("legit", activeAt);
  player.send({ type: "subscribe", roomId: "legit" });
  await player.next((m) => m.type === "snapshot");
  while (!t.upstream.looksAt("legit").some((at) => at >= activeAt) && t.time.elapsed() < 60_000) await t.time.tick(10);
  await player.next((m) => m.type === "update" && m.result.observation.kind === "active");
  const looks = t.upstream.looksAt("legit");
  const result = {
    firstLookMs: (looks[0] as number) - subscribedAt,
    detectionMs: (looks.find((at) => at >= activeAt) as number) - activeAt,
    refused: attackers === 0 ? 0 : clients[0]?.messages.filter((m) => m.type === "error").length,
  };
  for (const client of clients) client.ws.close();
  await Promise.all(clients.map((c) => c.closed));
  expect(await t.close()).toBe(0);
  return result;
}

describe("ghost-room floods", () => {
  it("a legitimate room's first look and detection stay within 1.5x of no attack, whatever the attackers ask", async () => {
    const quiet = await legitimateRoomUnder(0);
    for (const attackers of [1, 3]) {
      const attacked = await legitimateRoomUnder(attackers);
      // Each attacker got 32 rooms never seen (its cap here), and the other 8 refused.
      expect(attacked.refused).toBe(8);
      // Its first look waits at most one turn of the unvouched slice (10 a second), not behind 32 x attackers looks.
      expect(attacked.firstLookMs).toBeLessThanOrEqual(100);
      expect(attacked.detectionMs).toBeLessThanOrEqual(Math.max(1.5 * quiet.detectionMs, quiet.detectionMs + 50));
    }
  });

  it("caps a connection's rooms never seen and the gateway's rooms; a room seen to exist is never refused", async () => {
    const t = await abuseGateway({ limits: { maxUnseenRoomsPerConnection: 2, maxRooms: 3 } });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    t.upstream.activeAt.set("real", t.time.fake.now);
    const first = await connectRaw(t.gateway.url);
    first.send({ type: "subscribe", roomId: "real" });
    await first.next((m) => m.type === "update" && m.roomId === "real");
    for (const roomId of ["g1", "g2", "g3"]) first.send({ type: "subscribe", roomId });
    // "real" was seen active: it does not count. g1 and g2 do, so g3 is refused.
    const refused = await first.next((m) => m.type === "error");
    expect(refused).toMatchObject({ code: "too_many_subscriptions", roomId: "g3", message: "at most 2 rooms not yet seen to exist per connection" });
    const second = await connectRaw(t.gateway.url);
    second.send({ type: "subscribe", roomId: "g4" });
    // Three rooms are watched (real, g1, g2): a fourth is refused, whoever asks...
    expect(await second.next((m) => m.type === "error")).toMatchObject({ code: "too_many_subscriptions", roomId: "g4", message: "the gateway watches 3 rooms, its limit; try again later" });
    // ...but a room already watched costs nothing more, and is served.
    second.send({ type: "subscribe", roomId: "real" });
    expect(await second.next((m) => m.type === "snapshot")).toMatchObject({ roomId: "real", result: { observation: { kind: "active" } } });
    expect(await metric(t.gateway, 'room_watcher_gateway_refusals_total{reason="unseen_limit"}')).toBe(1);
    expect(await metric(t.gateway, 'room_watcher_gateway_refusals_total{reason="room_limit"}')).toBe(1);
    for (const c of [first, second]) c.ws.close();
    await Promise.all([first.closed, second.closed]);
  });

  it("remembers a room that ended not_found: subscribing it again costs no look, until the memory lapses", async () => {
    const t = await abuseGateway({ notFoundMemoryMs: 30_000 });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const attacker = await connectRaw(t.gateway.url);
    attacker.send({ type: "subscribe", roomId: "ghost" });
    await attacker.next((m) => m.type === "snapshot");
    // Not found past the grace (5 s): the room ends.
    while (!attacker.messages.some((m) => m.type === "ended")) await t.time.tick(100);
    expect(await attacker.next((m) => m.type === "ended")).toMatchObject({ roomId: "ghost", reason: "not_found" });
    const looks = t.upstream.looksAt("ghost").length;
    for (let i = 0; i < 50; i++) attacker.send({ type: "subscribe", roomId: "ghost" });
    await nth(attacker, 51, (m) => m.type === "ended");
    expect(t.upstream.looksAt("ghost")).toHaveLength(looks);
    expect(await metric(t.gateway, "room_watcher_gateway_not_found_memory_total")).toBe(50);
    expect(t.gateway.stats.rooms).toBe(0);
    // Once the memory has lapsed, the room is looked at again (it may exist by now).
    await t.time.tick(30_000);
    attacker.send({ type: "subscribe", roomId: "ghost" });
    await attacker.next(() => t.upstream.looksAt("ghost").length > looks);
    await t.time.tick(1);
    expect(t.upstream.looksAt("ghost")).toHaveLength(looks + 1);
    attacker.ws.close();
    await attacker.closed;
  });
});

describe("a connection that keeps asking past its limits", () => {
  it("is closed with 4400 (a subscribe refused again counts as an invalid message) and its address locked out", async () => {
    const t = await abuseGateway({ limits: { maxUnseenRoomsPerConnection: 2, maxFailedAuthsPerMinute: 1 } });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const hammer = await connectRaw(t.gateway.url);
    // 2 taken, 28 refused once each: told, not counted (a client resubscribing after a reconnect does this).
    for (let i = 0; i < 30; i++) hammer.send({ type: "subscribe", roomId: `ghost-${i}` });
    await nth(hammer, 28, (m) => m.type === "error");
    expect(hammer.ws.readyState).toBe(hammer.ws.OPEN);
    // Asking again for what was refused is flooding: the 20th such closes it.
    for (let i = 0; i < 30; i++) hammer.send({ type: "subscribe", roomId: `ghost-${2 + (i % 28)}` });
    expect((await hammer.closed).code).toBe(4400);
    expect(hammer.messages.filter((m) => m.type === "error")).toHaveLength(28 + 19);
    // Its rooms go with it.
    await eventually(() => t.gateway.stats.rooms === 0);
    await expect(connectRaw(t.gateway.url)).rejects.toThrow("HTTP 429");
    const player = await connectRaw(t.gateway.url, { localAddress: "127.0.0.2" });
    await player.next((m) => m.type === "welcome");
    player.ws.close();
    await player.closed;
  });
});
