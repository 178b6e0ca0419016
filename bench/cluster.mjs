/**
 * Shared-mode benchmark: three gateway instances (child processes, bench/gateway-server.mjs) on one
 * redis-server, N subscribers (bench/gateway-subscribers.mjs, one WebSocket each) spread so that every
 * room has subscribers on all three, M cold rooms of the simulator (this process). Then, in the same
 * run, the baseline: the same three instances without Redis (three independent in-memory gateways,
 * each watching every room its subscribers asked for).
 *
 * Measures:
 * - upstream polls per room per active-poll interval, counted by the simulator over a window in which
 *   every room is active (target 1; the baseline polls each room once per instance, so 3);
 * - delivery latency: the owner learned a change (`at`, its epoch clock) -> a subscriber on any
 *   instance received it (through Redis pub/sub for the two instances that do not own the room);
 * - failover: one instance is frozen (SIGSTOP), its leases' time left read from Redis, then SIGKILLed,
 *   and the rooms it owned change at once (their processes crash): when a survivor took each lease,
 *   against when it lapsed; the time until every subscriber of those rooms on the other instances
 *   hears the change (the lease lapsing, a survivor's claim at that moment, a poll, the fan-out); and
 *   the time the dead instance's subscribers take to reconnect to a survivor and get their room's
 *   snapshot;
 * - the cost: each gateway's CPU and event-loop delay, Redis's CPU, commands per second and round
 *   trip; resyncs (there should be none) and connections closed other than by the SIGKILL.
 *
 * The machine is shared: the figures to compare are the two modes of the same run.
 *
 * Run: npm run build && node --expose-gc bench/cluster.mjs [rooms=3000] [subscribers=30000]
 * (BENCH_SPREAD_MS: how long rooms take to be created, default 10,000; BENCH_LEASE_TTL_MS: the lease,
 * default the gateway's 10,000.)
 * Needs redis-server (bash scripts/redis.sh install); starts its own on a free loopback port.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { DEFAULT_LEASE_TTL_MS } from "../dist/gateway/index.js";
import { Simulator } from "../dist/simulator/index.js";
import { DEFAULT_POLL_OPTIONS } from "../dist/watch/options.js";
import { forkGateway, forkSubscribers, killOnExit } from "./children.mjs";
import { createRooms, requestsOf } from "./rooms.mjs";
import { stats } from "./stats.mjs";
import { epochNow, pause } from "./time.mjs";

const ROOMS = Number(process.argv[2] ?? 3000);
const SUBSCRIBERS = Number(process.argv[3] ?? 30_000);
const INSTANCES = 3;
const TIME_SCALE = 5;
const APP = "bench-app";
const GATEWAY_MAX_RPS = 5_000;
const SPREAD_MS = Number(process.env.BENCH_SPREAD_MS ?? 10_000);
const LEASE_TTL_MS = Number(process.env.BENCH_LEASE_TTL_MS ?? DEFAULT_LEASE_TTL_MS);
/** The window over which polls are counted: three active-poll intervals. */
const ACTIVE_POLL_INTERVAL_MS = DEFAULT_POLL_OPTIONS.activePollIntervalMs;
const HOLD_MS = 3 * ACTIVE_POLL_INTERVAL_MS;
const CREATE_BATCH = 10;
const VICTIM = 1;
/** Sockets per subscriber process, under the usual 20,000 open files per process. */
const SUBSCRIBERS_PER_PROCESS = Number(process.env.BENCH_SUBSCRIBERS_PER_PROCESS ?? 15_000);

const log = (text) => process.stderr.write(`${text}\n`);


function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Debian's redis-server on a free loopback port, no persistence; resolves once it accepts connections. */
async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), "room-watcher-bench-redis-"));
  const port = await freePort();
  const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  killOnExit(child);
  await new Promise((resolve, reject) => {
    let output = "";
    child.once("error", (error) => reject(new Error(`redis-server could not start (bash scripts/redis.sh install): ${error.message}`)));
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (output.includes("Ready to accept connections")) resolve();
    });
  });
  child.stdout.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    /** CPU time redis-server has used so far, in ms (Linux: /proc). */
    cpuMs: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ");
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    },
    stop: async () => {
      child.kill("SIGKILL");
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const simulator = await Simulator.start({ seed: 1, timeScale: TIME_SCALE, appId: APP, tickMs: 5 });
const redisServer = await startRedis();
const redis = new Redis(redisServer.url);

function startGateway(extraOptions) {
  return forkGateway([simulator.url, APP, "-", String(GATEWAY_MAX_RPS), "{}", JSON.stringify(extraOptions)]);
}

/**
 * The subscribers, over as many processes as the file descriptor limit asks (a socket each):
 * messages go to every process, and an awaited message counts once every process has sent it.
 */
function startSubscribers() {
  const processes = Array.from({ length: Math.ceil(SUBSCRIBERS / SUBSCRIBERS_PER_PROCESS) }, () => forkSubscribers());
  return {
    connect: (urls, block) =>
      processes.forEach((p, i) => {
        const offset = i * SUBSCRIBERS_PER_PROCESS;
        p.send({ type: "connect", urls, block, offset, count: Math.min(SUBSCRIBERS_PER_PROCESS, SUBSCRIBERS - offset) });
      }),
    next: (type) => Promise.all(processes.map((p) => p.next(type))),
    send: (message) => processes.forEach((p) => p.send(message)),
    /** Every process's report, merged. */
    report: async () => {
      const reports = Promise.all(processes.map((p) => p.next("report")));
      processes.forEach((p) => p.send({ type: "report" }));
      const all = await reports;
      return {
        deliveries: all.flatMap((r) => r.deliveries),
        deliveredVia: all.flatMap((r) => r.deliveredVia),
        settledDeliveries: all.flatMap((r) => r.settledDeliveries),
        settledVia: all.flatMap((r) => r.settledVia),
        resyncs: all.reduce((sum, r) => sum + r.resyncs, 0),
        unexpectedCloses: all.reduce((sum, r) => sum + Object.values(r.unexpectedCloses ?? {}).reduce((a, b) => a + b, 0), 0),
        failedOver: all.flatMap((r) => r.failedOver),
        resynced: all.flatMap((r) => r.resynced),
        loopDelayMs: all.map((r) => r.loopDelayMs),
      };
    },
    exited: Promise.all(processes.map((p) => p.exited)),
  };
}

const commandsProcessed = async () => Number(/total_commands_processed:(\d+)/.exec(await redis.info("stats"))?.[1]);

/** Each room's lease key in Redis, found by owners(). */
const leaseKeys = new Map();

/**
 * Watches the dead owner's leases (every 20 ms) until a survivor holds each: when it did, in ms after
 * `frozenAt`, or null if not within `limitMs`.
 */
async function watchTakeover(rooms, deadId, frozenAt, limitMs) {
  const keys = rooms.map((roomId) => leaseKeys.get(roomId));
  const takenMs = new Array(rooms.length).fill(null);
  let left = rooms.length;
  while (left > 0 && epochNow() - frozenAt < limitMs) {
    const holders = await redis.mget(...keys);
    const at = epochNow() - frozenAt;
    holders.forEach((holder, i) => {
      if (takenMs[i] !== null || holder === null || holder === deadId) return;
      takenMs[i] = at;
      left--;
    });
    if (left > 0) await pause(20);
  }
  return takenMs;
}

/** Which instance holds each room's lease, as Redis says. */
async function owners() {
  const byOwner = new Map();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", "*:lease", "COUNT", 1000);
    cursor = next;
    const values = keys.length === 0 ? [] : await redis.mget(...keys);
    keys.forEach((key, i) => {
      const roomId = /\{([^}]+)\}:lease$/.exec(key)?.[1];
      const owner = values[i];
      if (roomId === undefined || owner === null) return;
      leaseKeys.set(roomId, key);
      if (!byOwner.has(owner)) byOwner.set(owner, []);
      byOwner.get(owner).push(roomId);
    });
  } while (cursor !== "0");
  return byOwner;
}

async function phase(shared) {
  const name = shared ? "shared (one Redis)" : "independent (in memory)";
  log(`${name}: starting ${INSTANCES} gateways`);
  const gateways = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => startGateway(shared ? { redis: { url: redisServer.url, instanceId: `gw-${i}`, leaseTtlMs: LEASE_TTL_MS } } : {})),
  );
  const subscribers = startSubscribers();
  const connected = subscribers.next("connected");
  // Subscriber i is on instance floor(i / rooms) % 3 and watches room i % rooms: every room has subscribers on every instance.
  subscribers.connect(
    gateways.map((g) => g.url),
    ROOMS,
  );
  await connected;
  log(`${name}: ${SUBSCRIBERS} subscribers connected`);

  const allActive = subscribers.next("allActive");
  // Redis's own round trip while rooms are created and start (a PING every 20 ms, from this process).
  const pings = [];
  let pinging = shared;
  const pinger = (async () => {
    while (pinging) {
      const sentAt = performance.now();
      await redis.ping();
      pings.push(performance.now() - sentAt);
      await pause(20);
    }
  })();
  const redisCpuBefore = shared ? redisServer.cpuMs() : 0;
  const creationStart = performance.now();
  const roomIds = await createRooms(simulator, { appId: APP, count: ROOMS, spreadMs: SPREAD_MS, batch: CREATE_BATCH }, (batch, first) => subscribers.send({ type: "subscribe", roomIds: batch, first, rooms: ROOMS }));
  await allActive;
  pinging = false;
  await pinger;
  const redisCpuCreation = shared ? Number(((redisServer.cpuMs() - redisCpuBefore) / (performance.now() - creationStart)).toFixed(3)) : null;
  const early = await subscribers.report();
  const { deliveries, settledDeliveries, resyncs: resyncsBeforeActive, loopDelayMs: subscriberLoopDelayMs } = early;
  // Shared: split deliveries by whether the subscriber's gateway watches the room itself or follows its owner through Redis.
  let deliveryByPath = null;
  if (shared) {
    const ownerOf = new Map();
    for (const [owner, rooms] of await owners()) for (const roomId of rooms) ownerOf.set(roomId, gateways.findIndex((g) => g.instanceId === owner));
    const split = (latencies, via) => {
      const local = [];
      const viaRedis = [];
      latencies.forEach((latency, k) => (ownerOf.get(via[2 * k + 1]) === via[2 * k] ? local : viaRedis).push(latency));
      return { ownerInstanceMs: stats(local), followerInstancesMs: stats(viaRedis) };
    };
    deliveryByPath = { all: split(deliveries, early.deliveredVia), settled: split(settledDeliveries, early.settledVia) };
    log(`${name}: delivery ${JSON.stringify(deliveryByPath)}`);
  }
  log(`${name}: every subscriber saw its room active; counting polls over ${HOLD_MS} ms`);

  // Every room is active: count the polls over three active-poll intervals.
  const requestsBefore = requestsOf(simulator, roomIds);
  const commandsBefore = shared ? await commandsProcessed() : 0;
  const redisCpuHoldBefore = shared ? redisServer.cpuMs() : 0;
  const loadBefore = loadavg()[0];
  const cpuBefore = await Promise.all(gateways.map((g) => g.ask("memory")));
  const holdStart = performance.now();
  await pause(HOLD_MS);
  const heldMs = performance.now() - holdStart;
  const polls = requestsOf(simulator, roomIds) - requestsBefore;
  const redisCommandsPerSecond = shared ? Math.round(((await commandsProcessed()) - commandsBefore) / (heldMs / 1000)) : null;
  const redisCpuHold = shared ? Number(((redisServer.cpuMs() - redisCpuHoldBefore) / heldMs).toFixed(3)) : null;
  const pollsPerRoomPerInterval = Number((polls / ROOMS / (heldMs / ACTIVE_POLL_INTERVAL_MS)).toFixed(3));
  const gatewayStats = await Promise.all(gateways.map((g) => g.ask("memory")));
  // Each gateway's CPU over the window (GC for the memory figures included), as a share of one core.
  const gatewayCpu = gatewayStats.map((s, i) => Number(((s.cpuMs - cpuBefore[i].cpuMs) / heldMs).toFixed(3)));
  // What the gateways resynced so far (shared only), by cause.
  const resyncCounts = {};
  for (const { text } of await Promise.all(gateways.map((g) => g.ask("metrics")))) {
    for (const [, cause, n] of text.matchAll(/room_watcher_gateway_resyncs_total\{cause="([^"]+)"\} (\d+)/g)) resyncCounts[cause] = (resyncCounts[cause] ?? 0) + Number(n);
  }

  let failover = null;
  if (shared) {
    const byOwner = await owners();
    const ownedCounts = gateways.map((g) => byOwner.get(g.instanceId)?.length ?? 0);
    const orphaned = byOwner.get(gateways[VICTIM].instanceId) ?? [];
    const armed = subscribers.next("failoverArmed");
    const failedOver = subscribers.next("failedOver");
    const resynced = subscribers.next("resynced");
    subscribers.send({ type: "failover", rooms: orphaned, deadUrl: VICTIM });
    await armed;
    log(`${name}: rooms owned ${ownedCounts.join(" / ")}; SIGKILL of ${gateways[VICTIM].instanceId}, its ${orphaned.length} rooms change at once`);
    // Frozen first (SIGSTOP): it renews nothing from here on, and once a renewal it had already sent
    // has landed, the leases' PTTLs say when each lapses. Then the SIGKILL. Times count from the freeze,
    // the moment the gateway stopped working.
    const frozenAt = epochNow();
    gateways[VICTIM].child.kill("SIGSTOP");
    await pause(50);
    const readAt = epochNow();
    const pttls = (await redis.pipeline(orphaned.map((roomId) => ["pttl", leaseKeys.get(roomId)])).exec()).map(([, ms]) => ms);
    gateways[VICTIM].child.kill("SIGKILL");
    // When each lease lapses, in ms after the freeze (Redis read the PTTL at readAt or a little later).
    const lapseAfterFreeze = pttls.map((left) => readAt + left - frozenAt);
    const limitMs = 3 * LEASE_TTL_MS;
    const takenOver = watchTakeover(orphaned, gateways[VICTIM].instanceId, frozenAt, limitMs);
    const processes = new Set(orphaned.map((roomId) => simulator.processOf(roomId)));
    for (const processId of processes) simulator.crashProcess(processId);
    const done = await Promise.race([Promise.all([failedOver, resynced]).then(() => true), pause(limitMs).then(() => false)]);
    if (!done) {
      const progress = subscribers.next("progress");
      subscribers.send({ type: "progress" });
      log(`${name}: failover not complete ${limitMs} ms after the freeze: ${JSON.stringify(await progress)}`);
      process.exit(1);
    }
    const after = await subscribers.report();
    const takenMs = await takenOver;
    if (takenMs.includes(null)) {
      log(`${name}: ${takenMs.filter((t) => t === null).length} of the dead owner's leases not taken over`);
      process.exit(1);
    }
    failover = {
      leaseTtlMs: LEASE_TTL_MS,
      roomsOwned: ownedCounts,
      orphanedRooms: orphaned.length,
      leaseLeftAtFreezeMs: stats(lapseAfterFreeze),
      takenOverMs: stats(takenMs),
      // Per room: taken over this long after its lease ran out (to the 20 ms the leases are read at).
      takenOverAfterLapseMs: stats(takenMs.map((t, i) => t - lapseAfterFreeze[i])),
      survivorsHeardChangeMs: stats(after.failedOver.map((at) => at - frozenAt)),
      deadInstanceSubscribers: after.resynced.length,
      reconnectToSnapshotMs: stats(after.resynced.map(([closedAt, snapshotAt]) => snapshotAt - closedAt)),
      subscribersClosedOtherwise: after.unexpectedCloses,
      freezeToSnapshotMs: stats(after.resynced.map(([, snapshotAt]) => snapshotAt - frozenAt)),
    };
    log(`${name}: failover ${JSON.stringify(failover)}`);
    await gateways[VICTIM].exited;
  }

  const allEnded = subscribers.next("allEnded");
  for (const roomId of roomIds) simulator.destroyRoom(APP, roomId);
  await allEnded;
  const survivors = shared ? gateways.filter((_, i) => i !== VICTIM) : gateways;
  const metrics = await Promise.all(survivors.map((g) => g.ask("metrics")));
  subscribers.send({ type: "close" });
  await subscribers.exited;
  for (const g of survivors) await g.ask("close");
  await Promise.all(survivors.map((g) => g.exited));
  const leftInRedis = shared ? (await redis.keys("*:lease")).length : null;
  const requests = metrics.reduce((sum, { text }) => sum + Number(/room_watcher_gateway_upstream_requests_total\{outcome="ok"\} (\d+)/.exec(text)?.[1] ?? 0), 0);
  return {
    mode: shared ? "shared" : "independent",
    pollsPerRoomPerInterval,
    pollWindowMs: Math.round(heldMs),
    loadAverage1m: { beforeWindow: Number(loadBefore.toFixed(2)), afterWindow: Number(loadavg()[0].toFixed(2)) },
    deliveryMs: stats(deliveries),
    settledDeliveryMs: stats(settledDeliveries),
    deliveryByPath,
    subscriberResyncsUntilAllActive: resyncsBeforeActive,
    gatewayResyncsBeforeFailover: resyncCounts,
    redisCommandsPerSecondIdle: redisCommandsPerSecond,
    redisPingWhileStartingMs: shared ? stats(pings) : null,
    redisCpuShareOfOneCore: shared ? { whileStarting: redisCpuCreation, allActive: redisCpuHold } : null,
    gatewayLoopDelayMs: gatewayStats.map((s) => s.loopDelayMs),
    gatewayCpuShareOfOneCoreAllActive: gatewayCpu,
    gatewayRssMiB: gatewayStats.map((s) => Math.round(s.rss / 2 ** 20)),
    subscriberLoopDelayMs,
    survivorsOkRequests: requests,
    leasesLeftAfterEnd: leftInRedis,
    failover,
  };
}

log(`cluster bench: ${INSTANCES} gateways, ${ROOMS} rooms, ${SUBSCRIBERS} subscribers (${SUBSCRIBERS / ROOMS} per room, on every instance); load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
const shared = await phase(true);
const independent = await phase(false);
await redis.quit();
await redisServer.stop();
await simulator.close();

const result = {
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform, loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))) },
  instances: INSTANCES,
  rooms: ROOMS,
  subscribers: SUBSCRIBERS,
  activePollIntervalMs: ACTIVE_POLL_INTERVAL_MS,
  shared,
  independent,
  pollRatio: Number((independent.pollsPerRoomPerInterval / shared.pollsPerRoomPerInterval).toFixed(2)),
  targets: {
    onePollPerRoomPerInterval: Math.abs(shared.pollsPerRoomPerInterval - 1) <= 0.1,
    // Every room taken over within the lease TTL of the gateway's freeze (its last renewal came before).
    takeoverWithinLeaseTtl: shared.failover.takenOverMs.max <= LEASE_TTL_MS,
    // And promptly once its lease lapsed (waiting for the next claim round instead would take up to a
    // third of the TTL).
    takeoverWithinOneSecondOfLapse: shared.failover.takenOverAfterLapseMs.max <= 1_000,
  },
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/cluster.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);

const f = shared.failover;
const pair = (x) => `${x.p50} / ${x.p99}`;
const rows = [
  ["", `${INSTANCES} gateways, shared (Redis)`, `${INSTANCES} gateways, independent`],
  ["upstream polls per room per active-poll interval", String(shared.pollsPerRoomPerInterval), String(independent.pollsPerRoomPerInterval)],
  ["delivery p50 / p99 ms, every subscriber", pair(shared.deliveryMs), pair(independent.deliveryMs)],
  ["delivery p50 / p99 ms: on the room's owner / on the other two (through Redis)", `${pair(shared.deliveryByPath.all.ownerInstanceMs)} / ${pair(shared.deliveryByPath.all.followerInstancesMs)}`, "-"],
  ["delivery p50 / p99 ms, changes learned after the subscriber's snapshot", pair(shared.settledDeliveryMs), pair(independent.settledDeliveryMs)],
  ["the same: on the room's owner / on the other two (through Redis)", `${pair(shared.deliveryByPath.settled.ownerInstanceMs)} / ${pair(shared.deliveryByPath.settled.followerInstancesMs)}`, "-"],
  ["failover: the dead owner's leases, time left at the freeze, p50 / max ms", `${f.leaseLeftAtFreezeMs.p50} / ${f.leaseLeftAtFreezeMs.max}`, "-"],
  ["failover: taken over by a survivor, p50 / max ms after the freeze; after the lease ran out, min / p50 / max ms", `${f.takenOverMs.p50} / ${f.takenOverMs.max}; ${f.takenOverAfterLapseMs.min} / ${f.takenOverAfterLapseMs.p50} / ${f.takenOverAfterLapseMs.max}`, "-"],
  ["failover: the dead owner's rooms changed, survivors' subscribers hear it, p50 / p99 / max ms after the freeze", `${pair(f.survivorsHeardChangeMs)} / ${f.survivorsHeardChangeMs.max}`, "-"],
  ["failover: the dead instance's subscribers, disconnected to snapshot from a survivor, p50 / p99 ms", pair(f.reconnectToSnapshotMs), "-"],
  ["gateway CPU, share of one core, all rooms active", shared.gatewayCpuShareOfOneCoreAllActive.join(" / "), independent.gatewayCpuShareOfOneCoreAllActive.join(" / ")],
  ["Redis: CPU share of one core / commands per s (script calls inside included), all rooms active", `${shared.redisCpuShareOfOneCore.allActive} / ${shared.redisCommandsPerSecondIdle}`, "-"],
  ["gateway event-loop delay p99 ms", shared.gatewayLoopDelayMs.map((l) => l.p99).join(" / "), independent.gatewayLoopDelayMs.map((l) => l.p99).join(" / ")],
];
console.log(`${INSTANCES} gateways, ${ROOMS} rooms, ${SUBSCRIBERS} subscribers; ${result.machine.cpus} x ${result.machine.cpu}, ${result.machine.memoryGiB} GiB, Node ${process.version}; lease TTL ${LEASE_TTL_MS} ms, active poll interval ${ACTIVE_POLL_INTERVAL_MS} ms`);
console.log(`| ${rows[0].join(" | ")} |`);
console.log(`|${rows[0].map(() => "---").join("|")}|`);
for (const row of rows.slice(1)) console.log(`| ${row.join(" | ")} |`);
console.log(
  `polls per room: ${result.pollRatio}x fewer shared than independent; rooms owned ${f.roomsOwned.join(" / ")}, ${f.orphanedRooms} taken over after the SIGKILL; ${f.deadInstanceSubscribers} subscribers of the dead gateway reconnected; ` +
    `subscriber resyncs before the failover ${shared.subscriberResyncsUntilAllActive}, gateway resyncs ${JSON.stringify(shared.gatewayResyncsBeforeFailover)}, ` +
    `subscribers closed other than by the SIGKILL ${f.subscribersClosedOtherwise}; Redis PING while rooms start p50 / p99 ${pair(shared.redisPingWhileStartingMs)} ms; ` +
    `1-min load average ${shared.loadAverage1m.beforeWindow} -> ${independent.loadAverage1m.afterWindow}`,
);
console.log(`targets: ${JSON.stringify(result.targets)}`);
