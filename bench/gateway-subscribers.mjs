/**
 * The benchmark's subscribers, in a process of their own: plain `ws` clients speaking room-watcher.v1,
 * one WebSocket each. Driven by bench/gateway.mjs and bench/cluster.mjs over IPC:
 *   {type:"connect", url | urls, count, block?, offset?}
 *                                       -> {type:"connected"}; this process holds subscribers offset .. offset + count - 1
 *                                          (offset 0 by default: several processes can share a run, a file
 *                                          descriptor limit being per process); subscriber i connects to
 *                                          urls[floor(i / block) % urls.length] (block 1 by default: round robin)
 *   {type:"subscribe", roomIds, first, rooms}
 *                                       room `first + k` is roomIds[k]; subscriber i subscribes to room i % rooms
 *                                       -> {type:"allActive"} once every subscriber has seen its room active
 *                                       -> {type:"allEnded"} once every subscriber has seen its room end
 *   {type:"failover", rooms, deadUrl}   (cluster) the gateway at urls[deadUrl] is about to be killed:
 *                                       -> {type:"failedOver"} once every subscriber of `rooms` on the other
 *                                          gateways has had an update (or a resync) since (the rooms changed
 *                                          while their owner was dead: it comes from whoever took them over)
 *                                       -> {type:"resynced"} once every subscriber of the dead gateway has
 *                                          reconnected to another one and had its room's snapshot
 *   {type:"report"}                     -> {type:"report", deliveries, deliveredVia (gateway index and room of each),
 *                                          settledDeliveries and settledVia (changes learned after the subscriber's
 *                                          first snapshot), resyncs, unexpectedCloses,
 *                                          firstActive: [[roomId, epochMs]...],
 *                                          failedOver: [epochMs...], resynced: [[closedAt, snapshotAt]...], loopDelayMs}
 *   {type:"close"}                      terminates every socket and exits
 * Times are epoch milliseconds with sub-millisecond precision (performance.timeOrigin + now()).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { WebSocket } from "ws";
import { GATEWAY_SUBPROTOCOL } from "../dist/gateway/index.js";
import { epochNow } from "./time.mjs";

const CONNECT_BATCH = 250;
const loop = monitorEventLoopDelay({ resolution: 1 });
/** One per WebSocket subscriber: {ws, urlIndex, roomId, activeAt, ended, failedOverAt, closedAt, resyncedAt}. */
const subscribers = [];
const deliveries = [];
/** For delivery k: the gateway the subscriber was on (urls index) at 2k, its room at 2k + 1. */
const deliveredVia = [];
/** The deliveries of changes learned after the subscriber had its first snapshot, and theirs. */
const settledDeliveries = [];
const settledVia = [];
let urls = [];
/** The run-wide index of this process's first subscriber. */
let offset = 0;
let expected = 0;
let active = 0;
let ended = 0;
let closing = false;
/** Snapshots after a subscriber's first: resyncs (a gap, a reconnection, the gateway's own resync). */
let resyncs = 0;
/** Closes that were no failover, by close code. */
const unexpectedCloses = {};
/** The failover under way: {rooms: Set, deadUrl, expected, count, resyncExpected, resyncCount}. */
let failover;

function onMessage(sub, data) {
  const receivedAt = epochNow();
  const message = JSON.parse(data.toString());
  if (message.type === "snapshot") {
    if (sub.snapshots++ > 0) resyncs++;
    else sub.firstSnapshotAt = receivedAt;
    // A resync brings the change too (then its update never comes).
    if (sub.awaitingFailover && sub.failedOverAt === undefined) failedOver(sub, receivedAt);
    if (sub.closedAt !== undefined && sub.resyncedAt === undefined) {
      sub.resyncedAt = receivedAt;
      if (++failover.resyncCount === failover.resyncExpected) process.send({ type: "resynced" });
    }
    // A resync may bring the room's activation (the update it replaces never comes).
    if (message.result?.observation.kind === "active") markActive(sub, receivedAt);
    return;
  }
  if (message.type !== "update" && message.type !== "ended") return;
  deliveries.push(receivedAt - message.at);
  deliveredVia.push(sub.urlIndex, sub.roomId);
  // Learned after this subscriber had its snapshot: not a change its gateway held while joining the room.
  if (sub.firstSnapshotAt !== undefined && message.at >= sub.firstSnapshotAt) {
    settledDeliveries.push(receivedAt - message.at);
    settledVia.push(sub.urlIndex, sub.roomId);
  }
  if (sub.awaitingFailover && sub.failedOverAt === undefined) failedOver(sub, receivedAt);
  if (message.type === "update" && message.result.observation.kind === "active") markActive(sub, receivedAt);
  if ((message.type === "ended" || message.result?.observation.kind === "not_found") && !sub.ended) {
    sub.ended = true;
    if (++ended === expected) process.send({ type: "allEnded" });
  }
}

function failedOver(sub, receivedAt) {
  sub.failedOverAt = receivedAt;
  if (++failover.count === failover.expected) process.send({ type: "failedOver" });
}

function markActive(sub, receivedAt) {
  if (sub.activeAt !== undefined) return;
  sub.activeAt = receivedAt;
  if (++active === expected) process.send({ type: "allActive" });
}

/** A subscriber of the killed gateway reconnects to another one (as through a load balancer) and resubscribes. */
function onClose(sub, ws, code) {
  if (closing || sub.ws !== ws) return;
  if (failover === undefined || sub.urlIndex !== failover.deadUrl || sub.closedAt !== undefined) {
    // Not a failover: the gateway closed it (a slow consumer, a missed heartbeat). Counted, not hidden.
    unexpectedCloses[code] = (unexpectedCloses[code] ?? 0) + 1;
    return;
  }
  sub.closedAt = epochNow();
  const alive = urls.map((_, i) => i).filter((i) => i !== failover.deadUrl);
  const target = alive[subscribers.indexOf(sub) % alive.length];
  connect(sub, target).then(
    () => sub.ws.send(JSON.stringify({ type: "subscribe", roomId: sub.roomId })),
    (error) => process.stderr.write(`subscriber could not reconnect: ${error.message}\n`),
  );
}

function connect(sub, urlIndex) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(urls[urlIndex], [GATEWAY_SUBPROTOCOL], { perMessageDeflate: false });
    sub.ws = ws;
    sub.urlIndex = urlIndex;
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.on("error", () => {});
    ws.on("message", (data) => onMessage(sub, data));
    ws.on("close", (code) => onClose(sub, ws, code));
  });
}

process.on("message", async (message) => {
  switch (message.type) {
    case "connect":
      urls = message.urls ?? [message.url];
      offset = message.offset ?? 0;
      for (let i = 0; i < message.count; i += CONNECT_BATCH) {
        const batch = Array.from({ length: Math.min(CONNECT_BATCH, message.count - i) }, (_, k) => {
          const sub = { ws: undefined, urlIndex: 0, roomId: undefined, snapshots: 0, firstSnapshotAt: undefined, activeAt: undefined, ended: false, awaitingFailover: false, failedOverAt: undefined, closedAt: undefined, resyncedAt: undefined };
          subscribers.push(sub);
          return connect(sub, Math.floor((offset + i + k) / (message.block ?? 1)) % urls.length);
        });
        await Promise.all(batch);
      }
      process.send({ type: "connected" });
      return;
    case "subscribe":
      loop.enable();
      expected = subscribers.length;
      message.roomIds.forEach((roomId, k) => {
        // This process's first subscriber of room `first + k` (run-wide index offset + i).
        const firstLocal = (((message.first + k - offset) % message.rooms) + message.rooms) % message.rooms;
        for (let i = firstLocal; i < subscribers.length; i += message.rooms) {
          subscribers[i].roomId = roomId;
          subscribers[i].ws.send(JSON.stringify({ type: "subscribe", roomId }));
        }
      });
      return;
    case "failover": {
      const rooms = new Set(message.rooms);
      // Those that stay on a surviving gateway (not those that will reconnect to one).
      for (const s of subscribers) s.awaitingFailover = s.urlIndex !== message.deadUrl && rooms.has(s.roomId);
      failover = {
        rooms,
        deadUrl: message.deadUrl,
        expected: subscribers.filter((s) => s.awaitingFailover).length,
        count: 0,
        resyncExpected: subscribers.filter((s) => s.urlIndex === message.deadUrl).length,
        resyncCount: 0,
      };
      process.send({ type: "failoverArmed" });
      // Nothing to wait for here (another process holds those subscribers): say so at once.
      if (failover.expected === 0) process.send({ type: "failedOver" });
      if (failover.resyncExpected === 0) process.send({ type: "resynced" });
      return;
    }
    case "progress": {
      // Who the failover still waits for (for a benchmark that has waited too long).
      const waiting = subscribers.filter((s) => (s.closedAt !== undefined && s.resyncedAt === undefined) || (s.awaitingFailover && s.failedOverAt === undefined));
      process.send({
        type: "progress",
        failover: failover === undefined ? null : { ...failover, rooms: failover.rooms.size },
        waiting: waiting.slice(0, 20).map((s) => ({ roomId: s.roomId, urlIndex: s.urlIndex, snapshots: s.snapshots, closedAt: s.closedAt, readyState: s.ws.readyState })),
        waitingCount: waiting.length,
        unexpectedCloses,
      });
      return;
    }
    case "report":
      loop.disable();
      process.send({
        type: "report",
        deliveries,
        deliveredVia,
        settledDeliveries,
        settledVia,
        resyncs,
        unexpectedCloses,
        firstActive: subscribers.map((s) => [s.roomId, s.activeAt]),
        failedOver: subscribers.filter((s) => s.failedOverAt !== undefined).map((s) => s.failedOverAt),
        resynced: subscribers.filter((s) => s.resyncedAt !== undefined).map((s) => [s.closedAt, s.resyncedAt]),
        loopDelayMs: { p50: Number((loop.percentile(50) / 1e6).toFixed(2)), p99: Number((loop.percentile(99) / 1e6).toFixed(2)), max: Number((loop.max / 1e6).toFixed(2)) },
      });
      return;
    case "close":
      closing = true;
      for (const sub of subscribers) sub.ws.terminate();
      process.disconnect();
      return;
  }
});
