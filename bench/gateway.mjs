/**
 * Gateway benchmark: M rooms and N subscribers (N/M per room, one WebSocket each) through the gateway
 * against the simulator, then the same lifecycle with every subscriber polling on its own, in the same
 * run. The gateway runs in a child process (bench/gateway-server.mjs) so its memory and its one core are
 * its own; the subscribers (plain `ws` clients speaking room-watcher.v1) run in another (bench/gateway-subscribers.mjs), the simulator in this one.
 *
 * Phases: (1) push without hints, (2) push with hints (the simulator sends one when a room turns
 * active), (3) push on the solo pollers' schedule (the fixed backoff: a solo poller watching one room
 * never has the 20 samples to learn from, the gateway's fleet learns from all its rooms), so that the
 * request reduction compares like with like, (4) the baseline: B rooms with N/M solo pollers each (a
 * RoomWatcher and a Fleet of its own per subscriber, default options). Each room is cold (time scale 5:
 * median start 1 s), and destroyed LIFETIME_MS after it was created, in every phase alike: requests per
 * room count the looks of a room's whole life, so its life must last as long whoever watches it.
 *
 * Measures: delivery latency (gateway learned a change -> subscriber received it; the gateway stamps
 * `at` with sub-millisecond epoch time), detection latency (simulator turned the room active -> a
 * subscriber learned it), gateway heap and RSS per connection, upstream requests per room for the
 * gateway vs solo polling, and the upstream round trip.
 *
 * Run: npm run build && node --expose-gc bench/gateway.mjs [rooms=1000] [subscribers=10000] [baselineRooms=100]
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { Fleet, HathoraHttpSource, RoomWatcher } from "../dist/index.js";
import { Simulator } from "../dist/simulator/index.js";
import { forkGateway, forkSubscribers } from "./children.mjs";
import { createRooms, requestsOf } from "./rooms.mjs";
import { ms, stats } from "./stats.mjs";

const ROOMS = Number(process.argv[2] ?? 1000);
const SUBSCRIBERS = Number(process.argv[3] ?? 10_000);
const BASELINE_ROOMS = Number(process.argv[4] ?? 100);
const PER_ROOM = Math.round(SUBSCRIBERS / ROOMS);
const TIME_SCALE = 5;
const APP = "bench-app";
const HINT_TOKEN = "bench-hint-token";
/** The gateway fleet's request budget: the simulator is local, the default 100/s is for real upstreams. */
const GATEWAY_MAX_RPS = 5_000;
/** Rooms are created at a steady rate over this long (and subscribed as they are created), as a matchmaker would. */
const SPREAD_MS = Number(process.env.BENCH_SPREAD_MS ?? 10_000);
const CREATE_BATCH = 10;
/** Each room is destroyed this long after its creation (real ms; 30 s simulated, cold starts take ~5 s). */
const LIFETIME_MS = Number(process.env.BENCH_LIFETIME_MS ?? 6_000);
/** How the rooms of a phase are created: at a steady rate, each destroyed LIFETIME_MS after its creation. */
const roomCreation = (count) => ({ appId: APP, count, spreadMs: SPREAD_MS, batch: CREATE_BATCH, lifetimeMs: LIFETIME_MS });

const log = (text) => process.stderr.write(`${text}\n`);

const simulator = await Simulator.start({ seed: 1, timeScale: TIME_SCALE, appId: APP, tickMs: 5 });

/** Resolves when `predicate` holds, checked on every call of the returned `poke`. */
function latch(predicate) {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  const poke = () => {
    if (predicate()) resolve();
  };
  return { promise, poke };
}

/** The gateway on the schedule a solo poller of one room keeps: the fixed backoff, the watcher's floor. */
const SOLO_SCHEDULE = { delayPerLookMs: 0, minPollIntervalMs: 100 };

function startGateway(hintToken, pollOptions) {
  return forkGateway([simulator.url, APP, hintToken ?? "-", String(GATEWAY_MAX_RPS), ...(pollOptions === undefined ? [] : [JSON.stringify(pollOptions)])]);
}

async function pushPhase(withHints, pollOptions) {
  const gateway = await startGateway(withHints ? HINT_TOKEN : undefined, pollOptions);
  if (withHints) simulator.sendHints({ gatewayUrl: gateway.url, token: HINT_TOKEN });
  const subscribers = forkSubscribers();

  const before = await gateway.ask("memory");
  const connected = subscribers.next("connected");
  subscribers.send({ type: "connect", url: gateway.url, count: SUBSCRIBERS });
  await connected;
  const afterConnect = await gateway.ask("memory");

  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const allEnded = subscribers.next("allEnded");
  const roomIds = await createRooms(simulator, roomCreation(ROOMS), (batch, first) => subscribers.send({ type: "subscribe", roomIds: batch, first, rooms: ROOMS }));
  const subscribed = await gateway.ask("memory");
  await allEnded;
  loop.disable();
  const reported = subscribers.next("report");
  subscribers.send({ type: "report" });
  const { deliveries, firstActive, loopDelayMs: subscriberLoopDelayMs } = await reported;
  const metrics = (await gateway.ask("metrics")).text;
  const after = await gateway.ask("memory");

  // Detection: the simulator's instant of turning the room active (this process's clock, as epoch) to receipt.
  const activatedAt = new Map();
  for (const roomId of roomIds) {
    const entry = simulator.truth(roomId)?.history.find((h) => h.status === "active");
    if (entry !== undefined) activatedAt.set(roomId, performance.timeOrigin + simulator.realTimeOf(entry.at));
  }
  // A room destroyed before it turned active (a cold start longer than its life) has no detection.
  const seenActive = firstActive.filter(([roomId, receivedAt]) => typeof receivedAt === "number" && activatedAt.has(roomId));
  const detections = seenActive.map(([roomId, receivedAt]) => receivedAt - activatedAt.get(roomId));
  const firstByRoom = new Map();
  for (const [roomId, receivedAt] of seenActive) firstByRoom.set(roomId, Math.min(firstByRoom.get(roomId) ?? Infinity, receivedAt));
  const hintSent = simulator.hintStats().sentAt;
  const hintedRooms = withHints ? roomIds.filter((r) => hintSent.has(r) && firstByRoom.has(r)) : [];
  const activeToHint = hintedRooms.map((r) => performance.timeOrigin + hintSent.get(r) - activatedAt.get(r));
  const hintToFirst = hintedRooms.map((r) => firstByRoom.get(r) - (performance.timeOrigin + hintSent.get(r)));

  const requests = requestsOf(simulator, roomIds);
  subscribers.send({ type: "close" });
  await subscribers.exited;
  if (withHints) simulator.sendHints(undefined);
  await gateway.ask("close");
  await gateway.exited;
  // The gateway's own view: learning a change -> the message written to each socket (histogram buckets, upper bounds).
  const buckets = [...metrics.matchAll(/room_watcher_gateway_push_latency_seconds_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => [Number(m[1]) * 1000, Number(m[2])]);
  const count = buckets.at(-1)?.[1] ?? 0;
  const bound = (q) => buckets.find(([, n]) => n >= q * count)?.[0] ?? null;
  const hinted = /room_watcher_gateway_hints_total\{outcome="accepted"\} (\d+)/.exec(metrics)?.[1];
  return {
    hints: withHints,
    deliveryMs: stats(deliveries),
    gatewayPushMsAtMost: { p50: bound(0.5), p99: bound(0.99) },
    detectionMs: stats(detections),
    upstreamRequestsPerRoom: Number((requests / ROOMS).toFixed(2)),
    hintsAccepted: hinted === undefined ? 0 : Number(hinted),
    ...(withHints ? { activeToHintSentMs: stats(activeToHint), hintSentToFirstSubscriberMs: stats(hintToFirst) } : {}),
    gatewayBytesPerConnection: {
      heap: Math.round((afterConnect.heapUsed - before.heapUsed) / SUBSCRIBERS),
      rss: Math.round((afterConnect.rss - before.rss) / SUBSCRIBERS),
    },
    gatewayBytesPerSubscribedConnection: {
      heap: Math.round((subscribed.heapUsed - before.heapUsed) / SUBSCRIBERS),
      rss: Math.round((subscribed.rss - before.rss) / SUBSCRIBERS),
    },
    gatewayRoomsLeft: after.stats.rooms,
    gatewayLoopDelayMs: after.loopDelayMs,
    subscriberLoopDelayMs,
    simulatorLoopDelayMs: { p50: ms(loop.percentile(50) / 1e6), p99: ms(loop.percentile(99) / 1e6) },
  };
}

async function baselinePhase() {
  const source = new HathoraHttpSource({ appId: APP, baseUrl: simulator.url });
  const detections = [];
  const fleets = [];
  let ended = 0;
  const total = BASELINE_ROOMS * PER_ROOM;
  const allEnded = latch(() => ended === total);
  const roomIds = await createRooms(simulator, roomCreation(BASELINE_ROOMS), (batch) => {
    for (const roomId of batch) {
      for (let i = 0; i < PER_ROOM; i++) {
        const fleet = new Fleet();
        fleets.push(fleet);
        const watcher = new RoomWatcher({ roomId, source, fleet });
        watcher.once("active", () => {
          const entry = simulator.truth(roomId)?.history.find((h) => h.status === "active");
          detections.push(performance.now() - simulator.realTimeOf(entry.at));
        });
        watcher.once("terminated", () => {
          ended++;
          allEnded.poke();
        });
        watcher.start();
      }
    }
  });
  await allEnded.promise;
  await Promise.all(fleets.map((f) => f.close()));
  const requests = requestsOf(simulator, roomIds);
  return { pollersPerRoom: PER_ROOM, detectionMs: stats(detections), upstreamRequestsPerRoom: Number((requests / BASELINE_ROOMS).toFixed(2)) };
}

async function upstreamRoundTripMs() {
  const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
  const url = `${simulator.url}/rooms/v2/${APP}/connectioninfo/${roomId}`;
  const samples = [];
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    await (await fetch(url)).text();
    samples.push(performance.now() - start);
  }
  return stats(samples);
}

log(`gateway bench: ${ROOMS} rooms, ${SUBSCRIBERS} subscribers (${PER_ROOM} per room), baseline ${BASELINE_ROOMS} rooms x ${PER_ROOM} solo pollers`);
const roundTrip = await upstreamRoundTripMs();
log(`upstream round trip (loopback GET connection info): p50 ${roundTrip.p50} ms`);
const push = await pushPhase(false);
log(`push: ${JSON.stringify(push)}`);
const hinted = await pushPhase(true);
log(`push + hints: ${JSON.stringify(hinted)}`);
const soloSchedule = await pushPhase(false, SOLO_SCHEDULE);
log(`push, solo pollers' schedule: ${JSON.stringify(soloSchedule)}`);
const baseline = await baselinePhase();
log(`solo polling: ${JSON.stringify(baseline)}`);
await simulator.close();

const reduction = Number((baseline.upstreamRequestsPerRoom / push.upstreamRequestsPerRoom).toFixed(1));
const likeForLike = Number((baseline.upstreamRequestsPerRoom / soloSchedule.upstreamRequestsPerRoom).toFixed(1));
const result = {
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, platform: process.platform },
  rooms: ROOMS,
  subscribers: SUBSCRIBERS,
  upstreamRoundTripMs: roundTrip,
  push,
  pushWithHints: hinted,
  pushOnSoloSchedule: soloSchedule,
  soloPolling: baseline,
  requestReduction: {
    soloPerRoom: baseline.upstreamRequestsPerRoom,
    gatewayPerRoom: push.upstreamRequestsPerRoom,
    factor: reduction,
    gatewayOnSoloSchedulePerRoom: soloSchedule.upstreamRequestsPerRoom,
    factorOnSameSchedule: likeForLike,
    subscribersPerRoom: PER_ROOM,
  },
  targets: {
    deliveryP99Within50Ms: push.deliveryMs.p99 <= 50 && hinted.deliveryMs.p99 <= 50,
    // On the same schedule: one watch per room instead of one per subscriber.
    requestsReducedBySubscriberRatio: baseline.upstreamRequestsPerRoom / soloSchedule.upstreamRequestsPerRoom >= PER_ROOM,
    hintDetectionP50WithinRoundTripPlus5Ms: hinted.detectionMs.p50 <= roundTrip.p50 + 5,
  },
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/gateway.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);

const phases = [push, hinted, soloSchedule];
const rows = [
  ["", "push", "push + hints", "push, solo schedule", `solo polling (${PER_ROOM}/room)`],
  ["delivery p50 / p99 ms", ...phases.map((p) => `${p.deliveryMs.p50} / ${p.deliveryMs.p99}`), "-"],
  ["detection p50 / p99 ms", ...phases.map((p) => `${p.detectionMs.p50} / ${p.detectionMs.p99}`), `${baseline.detectionMs.p50} / ${baseline.detectionMs.p99}`],
  ["upstream requests / room", ...phases.map((p) => String(p.upstreamRequestsPerRoom)), String(baseline.upstreamRequestsPerRoom)],
  ["gateway heap / RSS per connection", ...phases.map((p) => `${p.gatewayBytesPerSubscribedConnection.heap} / ${p.gatewayBytesPerSubscribedConnection.rss} B`), "-"],
];
const widths = rows[0].map((_c, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`${ROOMS} rooms, ${SUBSCRIBERS} subscribers; ${result.machine.cpus} x ${result.machine.cpu}, Node ${process.version}`);
for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  "));
console.log(`upstream round trip p50 ${roundTrip.p50} ms; requests per room: solo ${baseline.upstreamRequestsPerRoom} vs gateway ${push.upstreamRequestsPerRoom} = ${reduction}x fewer; on the same schedule ${soloSchedule.upstreamRequestsPerRoom} = ${likeForLike}x fewer (${PER_ROOM} subscribers per room)`);
console.log(`targets: ${JSON.stringify(result.targets)}`);
