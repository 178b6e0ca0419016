/**
 * The benchmark's subscribers, in a process of their own: plain `ws` clients speaking room-watcher.v1,
 * one WebSocket each. Driven by bench/gateway.mjs over IPC:
 *   {type:"connect", url, count}        -> {type:"connected"}
 *   {type:"subscribe", roomIds, first, rooms}
 *                                       room `first + k` is roomIds[k]; subscriber i subscribes to room i % rooms
 *                                       -> {type:"allActive"} once every subscriber has seen its room active
 *                                       -> {type:"allEnded"} once every subscriber has seen its room end
 *   {type:"report"}                     -> {type:"report", deliveries, firstActive: [[roomId, epochMs]...], loopDelayMs}
 *   {type:"close"}                      terminates every socket and exits
 * Times are epoch milliseconds with sub-millisecond precision (performance.timeOrigin + now()).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { WebSocket } from "ws";
import { GATEWAY_SUBPROTOCOL } from "../dist/index.js";

const CONNECT_BATCH = 250;
const loop = monitorEventLoopDelay({ resolution: 1 });
const epochNow = () => performance.timeOrigin + performance.now();
const sockets = [];
const roomOf = new Map();
const activeAt = new Map();
const ended = new Set();
const deliveries = [];
let expected = 0;

function onMessage(ws, data) {
  const receivedAt = epochNow();
  const message = JSON.parse(data.toString());
  if (message.type !== "update" && message.type !== "ended") return;
  deliveries.push(receivedAt - message.at);
  if (message.type === "update" && message.result.observation.kind === "active" && !activeAt.has(ws)) {
    activeAt.set(ws, receivedAt);
    if (activeAt.size === expected) process.send({ type: "allActive" });
  }
  if ((message.type === "ended" || message.result?.observation.kind === "not_found") && !ended.has(ws)) {
    ended.add(ws);
    if (ended.size === expected) process.send({ type: "allEnded" });
  }
}

function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [GATEWAY_SUBPROTOCOL], { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.on("message", (data) => onMessage(ws, data));
  });
}

process.on("message", async (message) => {
  switch (message.type) {
    case "connect":
      for (let i = 0; i < message.count; i += CONNECT_BATCH) {
        const batch = Math.min(CONNECT_BATCH, message.count - i);
        sockets.push(...(await Promise.all(Array.from({ length: batch }, () => connect(message.url)))));
      }
      process.send({ type: "connected" });
      return;
    case "subscribe":
      loop.enable();
      expected = sockets.length;
      message.roomIds.forEach((roomId, k) => {
        for (let i = message.first + k; i < sockets.length; i += message.rooms) {
          roomOf.set(sockets[i], roomId);
          sockets[i].send(JSON.stringify({ type: "subscribe", roomId }));
        }
      });
      return;
    case "report":
      loop.disable();
      process.send({
        type: "report",
        deliveries,
        firstActive: sockets.map((ws) => [roomOf.get(ws), activeAt.get(ws)]),
        loopDelayMs: { p50: Number((loop.percentile(50) / 1e6).toFixed(2)), p99: Number((loop.percentile(99) / 1e6).toFixed(2)), max: Number((loop.max / 1e6).toFixed(2)) },
      });
      return;
    case "close":
      for (const ws of sockets) ws.terminate();
      process.disconnect();
      return;
  }
});
