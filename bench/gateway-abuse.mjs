/**
 * The gateway under a ghost-room flood (issue 18): connections subscribing rooms that do not exist, as
 * fast as the gateway takes them, while a player subscribes real rooms. In one run, with 0, 1, 5 and 50
 * attacking connections, against the simulator: the player's rooms' first answer (subscribe -> first
 * update) and detection (the simulator turned the room active -> the player heard it), and the ratios to
 * the run with no attack (the target: detection within 1.5x).
 *
 * The gateway runs in a child process (bench/gateway-server.mjs, the fleet at 100 requests a second, the
 * default for a real upstream), the simulator, the attackers and the player in this one, each client from
 * a loopback address of its own. Two kinds of attacker (see attack()): one that holds as many ghost rooms
 * as it is let, and one that hammers past every limit.
 *
 * Run: npm run build && node bench/gateway-abuse.mjs [playerRooms=40] [attackers=0,1,5,50] [modes=at-cap,hammer]
 */
import { WebSocket } from "ws";
import { DEFAULT_GATEWAY_LIMITS } from "../dist/gateway/index.js";
import { Simulator } from "../dist/simulator/index.js";
import { forkGateway } from "./children.mjs";
import { stats } from "./stats.mjs";

const PLAYER_ROOMS = Number(process.argv[2] ?? 40);
const ATTACKERS = (process.argv[3] ?? "0,1,5,50").split(",").map(Number);
const MODES = (process.argv[4] ?? "at-cap,hammer").split(",");
const APP = "bench-app";
const TIME_SCALE = 5;
const MAX_RPS = 100;
/** Between two of the player's rooms (real ms); each is cold: a median start of 1 s at time scale 5. */
const PLAYER_SPACING_MS = 400;
/** The flood runs this long before the player's first room. */
const WARMUP_MS = 2_000;
const SUBPROTOCOL = "room-watcher.v1";

const log = (text) => process.stderr.write(`${text}\n`);

/** Connects from `localAddress`: every attacker, and the player, has a loopback address of its own, as they would have IPs of their own. */
function connect(url, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [SUBPROTOCOL], { localAddress });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/**
 * An attacker. `at-cap`: holds as many ghost rooms as the gateway lets it (it learns the cap from the
 * first refusal), replaces each that ends at once with a new one and subscribes the ended one again once;
 * it is never closed. `hammer`: asks for 1,000 at once (the old per-connection limit), tries each refused
 * subscribe again 100 ms later, reconnects at once when closed, and tries a refused handshake (its address
 * locked out) again 100 ms later.
 */
function attack(url, index, counts, mode) {
  let next = 0;
  let ws;
  let stopped = false;
  const retried = new Set();
  const run = async () => {
    ws = await connect(url, `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}`).catch(() => undefined);
    if (stopped) return void ws?.terminate();
    if (ws === undefined) {
      counts.handshakesRefused++;
      setTimeout(run, 100).unref();
      return;
    }
    counts.connections++;
    const socket = ws;
    const subscribe = (roomId) => {
      if (socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ type: "subscribe", roomId }));
      counts.subscribes++;
    };
    const fresh = () => subscribe(`ghost-${index}-${next++}`);
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "error" && message.roomId !== undefined) {
        counts.refused++;
        if (mode === "hammer") setTimeout(() => subscribe(message.roomId), 100).unref();
      } else if (message.type === "ended") {
        if (!retried.has(message.roomId)) {
          retried.add(message.roomId);
          subscribe(message.roomId);
          fresh();
        }
      }
    });
    socket.once("close", () => {
      if (!stopped) setImmediate(run);
    });
    // At the cap: ask one more than the default cap once, so the first refusal says where it is.
    const initial = mode === "hammer" ? 1_000 : DEFAULT_GATEWAY_LIMITS.maxUnseenRoomsPerConnection + 1;
    for (let i = 0; i < initial; i++) fresh();
  };
  void run();
  return () => {
    stopped = true;
    ws?.terminate();
  };
}

async function phase(simulator, attackers, mode) {
  const gateway = await forkGateway([simulator.url, APP, "-", String(MAX_RPS)]);
  const counts = { connections: 0, handshakesRefused: 0, subscribes: 0, refused: 0 };
  const stops = Array.from({ length: attackers }, (_, i) => attack(gateway.url, i, counts, mode));
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const player = await connect(gateway.url, "127.0.0.2");
  const subscribedAt = new Map();
  const firstAnswers = [];
  const detections = [];
  let done = 0;
  let finished;
  const allDone = new Promise((resolve) => (finished = resolve));
  player.on("message", (data) => {
    const message = JSON.parse(String(data));
    if (message.type !== "update") return;
    const at = subscribedAt.get(message.roomId);
    if (at === undefined) return;
    if (at.first === undefined) {
      at.first = performance.now();
      firstAnswers.push(at.first - at.subscribed);
    }
    if (message.result.observation.kind === "active" && at.active === undefined) {
      at.active = performance.now();
      const entry = simulator.truth(message.roomId)?.history.find((h) => h.status === "active");
      detections.push(at.active - simulator.realTimeOf(entry.at));
      simulator.destroyRoom(APP, message.roomId);
      if (++done === PLAYER_ROOMS) finished();
    }
  });
  for (let i = 0; i < PLAYER_ROOMS; i++) {
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
    subscribedAt.set(roomId, { subscribed: performance.now(), first: undefined, active: undefined });
    player.send(JSON.stringify({ type: "subscribe", roomId }));
    await new Promise((resolve) => setTimeout(resolve, PLAYER_SPACING_MS));
  }
  const timeout = setTimeout(finished, 60_000);
  await allDone;
  clearTimeout(timeout);
  const { stats: gatewayStats } = await gateway.ask("memory");
  const metrics = (await gateway.ask("metrics")).text;
  const sample = (name) => Number(metrics.split("\n").find((line) => line.startsWith(`${name} `))?.slice(name.length + 1) ?? 0);
  const result = {
    attackers,
    firstAnswerMs: stats(firstAnswers),
    detectionMs: stats(detections),
    detected: done,
    upstreamRequests: gatewayStats.upstreamRequests,
    attackerConnections: counts.connections,
    attackerHandshakesRefused: counts.handshakesRefused,
    attackerSubscribes: counts.subscribes,
    attackerRefused: counts.refused,
    notFoundFromMemory: sample("room_watcher_gateway_not_found_memory_total"),
  };
  player.close();
  for (const stop of stops) stop();
  await gateway.ask("close");
  await gateway.exited;
  log(`${mode}, ${attackers} attackers: first answer p50 ${result.firstAnswerMs.p50} ms, detection p50 ${result.detectionMs.p50} ms (${done}/${PLAYER_ROOMS} detected)`);
  return result;
}

const simulator = await Simulator.start({ seed: 18, timeScale: TIME_SCALE, appId: APP, tickMs: 5 });
const pad = (text, width) => String(text).padEnd(width);
const ratio = (value, base) => (base > 0 ? (value / base).toFixed(2) : "-");
let allMet = true;
for (const mode of MODES) {
  const results = [];
  for (const attackers of ATTACKERS) results.push(await phase(simulator, attackers, mode));
  const quiet = results.find((r) => r.attackers === 0) ?? results[0];
  console.log(`\nattackers ${mode}: ${PLAYER_ROOMS} player rooms, fleet at ${MAX_RPS} requests/s`);
  const rows = [
    ["attacking connections", ...results.map((r) => r.attackers)],
    ["first answer p50 / p99 ms", ...results.map((r) => `${r.firstAnswerMs.p50} / ${r.firstAnswerMs.p99}`)],
    ["detection p50 / p99 ms", ...results.map((r) => `${r.detectionMs.p50} / ${r.detectionMs.p99}`)],
    ["detection p50 / p99 vs no attack", ...results.map((r) => `${ratio(r.detectionMs.p50, quiet.detectionMs.p50)} / ${ratio(r.detectionMs.p99, quiet.detectionMs.p99)}`)],
    ["first answer p50 vs no attack", ...results.map((r) => ratio(r.firstAnswerMs.p50, quiet.firstAnswerMs.p50))],
    ["rooms detected", ...results.map((r) => `${r.detected}/${PLAYER_ROOMS}`)],
    ["attacker connections / refused", ...results.map((r) => `${r.attackerConnections} / ${r.attackerHandshakesRefused}`)],
    ["ghost subscribes / refused", ...results.map((r) => `${r.attackerSubscribes} / ${r.attackerRefused}`)],
    ["not found, told from memory", ...results.map((r) => r.notFoundFromMemory)],
    ["upstream requests", ...results.map((r) => r.upstreamRequests)],
  ];
  for (const row of rows) console.log(row.map((cell, i) => pad(cell, i === 0 ? 34 : 20)).join("").trimEnd());
  const worst = Math.max(...results.map((r) => r.detectionMs.p50 / quiet.detectionMs.p50));
  allMet &&= worst <= 1.5;
  console.log(`worst detection p50 ratio ${worst.toFixed(2)} (target <= 1.5): ${worst <= 1.5 ? "met" : "NOT met"}`);
}
await simulator.close();
process.exitCode = allMet ? 0 : 1;
