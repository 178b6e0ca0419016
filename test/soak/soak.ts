/**
 * The chaos soak: the simulator with faults on — 5xx, bursts of 429 with Retry-After, malformed bodies,
 * dropped connections, latency spikes up to 2 s, processes crashing so rooms move, rooms destroyed
 * mid-start and after, the gateway killed (SIGKILL) and restarted — while rooms are watched by polling
 * (a RoomWatcher each), through a fleet with a request budget, and over a gateway (the real CLI in a
 * process of its own, polling the same faulty simulator). A third of the rooms are Agones GameServers on a
 * fake Kubernetes API (agones-rooms.ts), watched through one namespace watch in the budgeted fleet, with
 * their own faults: streams cut or gone silent, 410 storms, 429 and 5xx on the relist. Another third are
 * Edgegap deployments on a fake Edgegap (edgegap-rooms.ts), polled in the same fleet within Edgegap's own
 * budget (its source's, under the 20 status requests/s of its organisation), with its faults: 5xx, 429
 * bursts (each pausing every Edgegap look), malformed bodies, webhooks lost, late or forged. Then every
 * report is checked against its simulator's own record.
 *
 * `npm test` runs a short seeded soak (test/soak.test.ts); `npm run soak` the long one.
 */
import { getActiveResourcesInfo } from "node:process";
import { fileURLToPath } from "node:url";
import { type CliProcess, spawnChild } from "../helpers/cli-process.js";
import { freeStablePort } from "../helpers/free-port.js";
import { seededRandom } from "../helpers/prng.js";
import { resourcesLeftAfter } from "../helpers/resources.js";
import { systemClock } from "../../src/core/clock.js";
import type { RoomState } from "../../src/core/room-state.js";
import { Simulator } from "../../src/simulator/simulator.js";
import type { FaultOptions } from "../../src/simulator/faults.js";
import { HathoraHttpSource } from "../../src/providers/hathora/http-source.js";
import { WebSocketSource } from "../../src/sources/websocket-source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { withFallback } from "../../src/watch/with-fallback.js";
import type { ExposedPort } from "../../src/core/observation.js";
import { AgonesRooms } from "./agones-rooms.js";
import { EdgegapRooms } from "./edgegap-rooms.js";
import { countingSource, type ProviderRoom, type ProviderRooms, RequestLog } from "./provider-rooms.js";
import { EDGEGAP_RATE_LIMITS } from "../../src/providers/edgegap/rate-limits.js";
import { maxInWindow } from "../helpers/prng.js";

export interface SoakOptions {
  readonly seed: number;
  /** Rooms in all: a third Agones GameServers, a third Edgegap deployments, a third Hathora rooms shared round-robin among the watching modes. */
  readonly rooms: number;
  /** Real ms over which rooms are created. */
  readonly createOverMs: number;
  /** Real ms of chaos after the first room. */
  readonly chaosMs: number;
  /**
   * Real ms the watchers get, once the chaos is over, to agree with the truth (the settling ends as soon
   * as they all do). Longer than the longest retry backoff (15 s), so that a room whose last looks all
   * failed is looked at again in time.
   */
  readonly settleMs: number;
  /** Requests per second of the budgeted fleet (its Edgegap share is further held to Edgegap's 20/s by the fake's 429s). */
  readonly fleetBudgetPerSecond: number;
  /** Times the gateway is killed and restarted during the chaos (the first outage outlasts the fallback delay). */
  readonly gatewayKills: number;
}

export const Mode = { POLLING: "polling", FLEET: "fleet", GATEWAY: "gateway", AGONES: "agones", EDGEGAP: "edgegap" } as const;
const HATHORA_MODES: readonly Mode[] = [Mode.POLLING, Mode.FLEET, Mode.GATEWAY];
const MODES: readonly Mode[] = [...HATHORA_MODES, Mode.AGONES, Mode.EDGEGAP];
export type Mode = (typeof Mode)[keyof typeof Mode];

export interface SoakSummary {
  readonly rooms: number;
  readonly roomsByMode: Readonly<Record<Mode, number>>;
  readonly faults: Readonly<Record<string, number>>;
  /** The Agones rooms' faults apart: injected by the fake Kubernetes API or the soak, and what its watch client saw. */
  readonly agonesFaults: Readonly<Record<string, number>>;
  /** How many GameServers reached each Agones state (the simulator's truth). */
  readonly agonesStates: Readonly<Record<string, number>>;
  /** The Edgegap rooms' faults apart: injected by the fake Edgegap (`status.*`) or the soak. */
  readonly edgegapFaults: Readonly<Record<string, number>>;
  /** How many deployments reached each Edgegap status (the fake's truth). */
  readonly edgegapStates: Readonly<Record<string, number>>;
  /** Pauses after a 429 (of the refused source's budget), by the mode of the room whose request was refused. */
  readonly fleetPauses: Readonly<Record<string, number>>;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly events: number;
  /** What the gateway's clients went through: disconnections, fallbacks to polling and back. */
  readonly gatewayClients: { readonly disconnected: number; readonly fallbacks: number; readonly resumedPush: number };
  readonly mismatches: readonly string[];
  readonly fullest10sWindow: number;
  readonly budget10s: number;
  /** Requests of the budgeted fleet: all, Edgegap's, and Edgegap's fullest second. */
  readonly requests: { readonly all: number; readonly edgegap: number; readonly edgegapFullest1s: number };
  readonly leftAfterStop: { readonly timers: number; readonly fleetTimers: number; readonly resources: readonly string[]; readonly listeners: number };
  readonly unhandled: readonly string[];
  readonly elapsedMs: number;
}

const APP = "soak-app";
const BASE_FAULTS: FaultOptions = { errorRates: { 500: 0.05, 503: 0.05 }, malformedRate: 0.03, dropRate: 0.03, latencyMs: [0, 20] };
const LATENCY_SPIKE_MS: readonly [number, number] = [500, 2_000];
/** Longest an answer can lag the state it reports: the worst spike plus request overhead. */
const STALENESS_MS = LATENCY_SPIKE_MS[1] + 1_000;
/** How long clients wait for a gone gateway before polling upstream themselves. */
const FALLBACK_AFTER_MS = 1_000;
/** A short outage (reconnect) and the long one (fallback, then push again). */
const SHORT_OUTAGE_MS = 300;
const LONG_OUTAGE_MS = FALLBACK_AFTER_MS + 500;
const GATEWAY_NODE = fileURLToPath(new URL("../helpers/gateway-node.mjs", import.meta.url));

interface Watched {
  readonly roomId: string;
  readonly mode: Mode;
  readonly watcher: RoomWatcher;
  readonly events: string[];
  readonly actives: Array<{ readonly port: ExposedPort; readonly additional: readonly ExposedPort[]; readonly at: number }>;
  destroyPlanned: "mid-start" | "after-active" | undefined;
  /** The host and the room's plan, for a room not on the Hathora simulator. */
  readonly provider: { readonly rooms: ProviderRooms; readonly room: ProviderRoom } | undefined;
}

const portKey = (p: ExposedPort | undefined): string => (p === undefined ? "-" : `${p.host}:${p.port}`);

export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const random = seededRandom(options.seed);
  const processListenersBefore = process.eventNames().reduce((n, name) => n + process.listenerCount(name), 0);
  const unhandled: string[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(`unhandledRejection: ${String(reason)}`);
  const onUncaught = (error: Error): void => void unhandled.push(`uncaughtException: ${error.message}`);
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUncaught);
  const resourcesBefore = getActiveResourcesInfo();
  const started = Date.now();
  const chaosCounts: Record<string, number> = {
    crash: 0,
    rateLimitBurst: 0,
    malformedBurst: 0,
    latencySpike: 0,
    destroyMidStart: 0,
    destroyAfterActive: 0,
    gatewayKill: 0,
  };

  const sim = await Simulator.start({ seed: options.seed, timeScale: 20, clock: systemClock, faults: BASE_FAULTS, neverReadyProbability: 0 });
  // Every request of the budgeted fleet, Hathora and Edgegap alike, as it starts.
  const requestLog = new RequestLog();
  const counted = countingSource(new HathoraHttpSource({ appId: APP, baseUrl: sim.url, requestTimeoutMs: 5_000 }), requestLog);
  const watchOptions = { activePollIntervalMs: 300, timeoutMs: 120_000, maxConsecutiveInvalidPayloads: 10, maxRetryAfterMs: 2_000 } as const;
  // Polling: a RoomWatcher each, no request budget to speak of. Fleet: one budget for all its rooms, and
  // Edgegap's own within it.
  const pollingFleet = new Fleet({ maxRequestsPerSecond: Number.POSITIVE_INFINITY, maxInFlight: 256 });
  const fleet = new Fleet({ source: counted, maxRequestsPerSecond: options.fleetBudgetPerSecond, burst: 1, maxInFlight: 64, ...watchOptions });
  const agones = await AgonesRooms.start(options.seed);
  const edgegap = await EdgegapRooms.start(options.seed, requestLog, fleet);
  const providers: readonly ProviderRooms[] = [agones, edgegap];
  const rooms: Watched[] = [];
  const modeOf = new Map<string, Mode>();
  // Every pause after a 429: no request within the same budget may start before it ends.
  const pauses: Array<{ readonly mode: Mode | undefined; readonly budget: string | undefined; readonly at: number; readonly until: number }> = [];
  fleet.on("paused", (e) => void pauses.push({ mode: modeOf.get(e.roomId), budget: e.budget, at: e.at, until: e.until }));

  // Gateway: a process of its own polling the same faulty simulator, SIGKILLed and restarted on its port
  // during the chaos. Its clients share one WebSocket source, which falls back to polling the simulator
  // while the gateway stays away longer than FALLBACK_AFTER_MS.
  const gatewayLifetimeMs = options.createOverMs + options.chaosMs + options.settleMs + 60_000;
  const gateways: CliProcess[] = [];
  const killed = new Set<CliProcess>();
  const startGateway = (port: number): Promise<string> => {
    const config = {
      baseUrl: sim.url,
      appId: APP,
      port,
      defaultMetrics: false,
      pollOptions: watchOptions,
      fleet: { maxRequestsPerSecond: 1_000, maxInFlight: 128 },
    };
    const child = spawnChild(process.execPath, [GATEWAY_NODE, JSON.stringify(config)], { lifetimeMs: gatewayLifetimeMs });
    gateways.push(child);
    // A gateway that exits unasked (a crash) is an uncaught error of the soak.
    void child.exited.then((exit) => {
      if (!killed.has(child)) unhandled.push(`gateway exited unasked: code ${exit.code} signal ${exit.signal}: ${exit.stderr.slice(0, 500)}`);
    });
    return child.line((l) => l.startsWith("{")).then((l) => (JSON.parse(l) as { url: string }).url);
  };
  const gatewayPort = await freeStablePort(random);
  const gatewayUrl = await startGateway(gatewayPort);
  const gatewayFleet = new Fleet({ maxRequestsPerSecond: Number.POSITIVE_INFINITY, maxInFlight: 256 });
  const wsSource = new WebSocketSource({ url: gatewayUrl, initialReconnectDelayMs: 50, maxReconnectDelayMs: 500 });
  const gatewaySource = withFallback(wsSource, new HathoraHttpSource({ appId: APP, baseUrl: sim.url, requestTimeoutMs: 5_000 }), {
    fallbackAfterMs: FALLBACK_AFTER_MS,
    fleet: gatewayFleet,
    pollOptions: watchOptions,
  });
  const gatewayClients = { disconnected: 0, fallbacks: 0, resumedPush: 0 };
  wsSource.on("disconnected", () => void gatewayClients.disconnected++);
  gatewaySource.on("fallback", (e) => void (e.active ? gatewayClients.fallbacks++ : gatewayClients.resumedPush++));

  const watchHathora = (mode: Mode): Watched => {
    const { roomId, processId } = sim.createRoom(APP);
    const watcher =
      mode === Mode.POLLING
        ? new RoomWatcher({ roomId, appId: APP, baseUrl: sim.url, fleet: pollingFleet, requestTimeoutMs: 5_000, ...watchOptions })
        : mode === Mode.GATEWAY
          ? new RoomWatcher({ roomId, source: gatewaySource, fleet: gatewayFleet, ...watchOptions })
          : new RoomWatcher({ roomId, fleet, processId });
    return { roomId, mode, watcher, events: [], actives: [], destroyPlanned: random() < 0.08 ? "mid-start" : random() < 0.1 ? "after-active" : undefined, provider: undefined };
  };
  // A room of another host, in the same budgeted fleet as the Hathora rooms: an Agones push room costs it
  // no request; an Edgegap deployment is polled within it.
  const watchOn = (rooms: ProviderRooms, mode: Mode): Watched => {
    const room = rooms.create();
    const watcher = new RoomWatcher({ roomId: room.roomId, source: rooms.source, fleet });
    return { roomId: room.roomId, mode, watcher, events: [], actives: [], destroyPlanned: undefined, provider: { rooms, room } };
  };
  const watch = (mode: Mode): void => {
    const w = mode === Mode.AGONES ? watchOn(agones, mode) : mode === Mode.EDGEGAP ? watchOn(edgegap, mode) : watchHathora(mode);
    const { roomId, watcher } = w;
    modeOf.set(roomId, mode);
    watcher.on("starting", (e) => {
      w.events.push(e.rescheduled ? "starting(rescheduled)" : "starting");
      if (w.provider !== undefined) w.provider.rooms.onStarting(w.provider.room);
      else if (w.destroyPlanned === "mid-start" && sim.destroyRoom(APP, roomId)) chaosCounts.destroyMidStart!++;
    });
    watcher.on("active", (e) => {
      w.events.push(`active(${portKey(e.exposedPort)}${e.moved ? " moved" : ""})`);
      w.actives.push({ port: e.exposedPort, additional: e.additionalExposedPorts, at: e.at });
      if (w.provider !== undefined) w.provider.rooms.onActive(w.provider.room);
      else if (w.destroyPlanned === "after-active" && sim.destroyRoom(APP, roomId)) chaosCounts.destroyAfterActive!++;
    });
    watcher.on("terminated", (e) => w.events.push(`terminated(${e.reason})`));
    watcher.start();
    rooms.push(w);
  };

  // Create the rooms, taking the modes in turn, while the chaos runs.
  const total = options.rooms;
  const chaosStart = Date.now();
  const chaosEnd = chaosStart + options.chaosMs;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let gatewayChaos: Promise<void> = Promise.resolve();
  let providersChaosOver: Promise<unknown> = Promise.resolve();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  await new Promise<void>((resolve) => {
    let created = 0;
    let hathoraCreated = 0;
    const createNext = (): void => {
      watch(created % 3 === 2 ? Mode.AGONES : created % 3 === 1 ? Mode.EDGEGAP : HATHORA_MODES[hathoraCreated++ % HATHORA_MODES.length]!);
      created++;
      if (created < total) later(options.createOverMs / total, createNext);
      else resolve();
    };
    createNext();
    let round = 0;
    const chaos = (): void => {
      if (Date.now() >= chaosEnd) return;
      // Each kind once first, whatever the draws; then at random.
      const roll = round < 4 ? [0.1, 0.5, 0.75, 0.95][round]! : random();
      round++;
      if (roll < 0.4) {
        // Crash the process of a random room that has one: every room on it moves.
        const hathoraRooms = rooms.filter((w) => w.provider === undefined);
        const victim = hathoraRooms[Math.floor(random() * hathoraRooms.length)];
        const processId = victim === undefined ? undefined : sim.processOf(victim.roomId);
        if (processId !== undefined && sim.crashProcess(processId)) chaosCounts.crash!++;
      } else if (roll < 0.65) {
        chaosCounts.rateLimitBurst!++;
        sim.setFaults({ ...BASE_FAULTS, rateLimit: { probability: 0.5, retryAfterSeconds: 1 } });
        later(300, () => sim.setFaults(BASE_FAULTS));
      } else if (roll < 0.85) {
        chaosCounts.malformedBurst!++;
        sim.setFaults({ ...BASE_FAULTS, malformedRate: 0.5 });
        later(300, () => sim.setFaults(BASE_FAULTS));
      } else {
        chaosCounts.latencySpike!++;
        sim.setFaults({ ...BASE_FAULTS, latencyMs: LATENCY_SPIKE_MS });
        later(300, () => sim.setFaults(BASE_FAULTS));
      }
      later(150 + random() * 300, chaos);
    };
    later(100, chaos);
    // Each other host's chaos runs beside it, on its own seeded draws, and past its end until every kind
    // has had its step (the summary checks each happened). A burst lasts until the client has met it, so the
    // last may outlast the chaos: the soak waits for it.
    providersChaosOver = Promise.all(
      providers.map(
        (provider, i) =>
          new Promise<void>((over) => {
            const step = (): void => {
              if (Date.now() < chaosEnd || !provider.everyChaosKindRan) provider.chaosStep(later, step);
              else over();
            };
            later(150 + 50 * i, step);
          }),
      ),
    );
    // Kill the gateway now and then (the first outage outlasts the clients' fallback delay), and restart it
    // on its port once the old process is gone; one outage at a time, and the chaos goes on after the last.
    const pause = (ms: number): Promise<void> => new Promise((done) => later(Math.max(0, ms), done));
    gatewayChaos = (async () => {
      for (let k = 0; k < options.gatewayKills; k++) {
        await pause(chaosStart + ((k + 1) * options.chaosMs) / (options.gatewayKills + 2) - Date.now());
        const current = gateways.at(-1)!;
        killed.add(current);
        current.kill("SIGKILL");
        chaosCounts.gatewayKill!++;
        await current.exited;
        await pause(k === 0 ? LONG_OUTAGE_MS : SHORT_OUTAGE_MS);
        await startGateway(gatewayPort);
      }
    })().catch((error: unknown) => void unhandled.push(`gateway restart failed: ${String(error)}`));
  });
  await new Promise<void>((resolve) => later(Math.max(0, chaosEnd - Date.now()), resolve));
  await gatewayChaos;
  await providersChaosOver;
  sim.setFaults({});
  for (const provider of providers) provider.calm();

  // Settle: every watcher agrees with the truth, or the settle time runs out.
  const agrees = (w: Watched): boolean => {
    const state = w.watcher.state;
    if (w.provider !== undefined) return w.provider.rooms.agrees(w.provider.room, state);
    const truth = sim.truth(w.roomId);
    if (truth?.status === "active") return state.status === "active" && portKey(state.connection.exposedPort) === portKey(truth.exposedPort);
    if (truth?.status === "destroyed") return state.status === "terminated" && state.reason === "destroyed";
    return false;
  };
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(finish, options.settleMs);
    const pending = new Set(rooms.filter((w) => !agrees(w)));
    // After every listener of the event has run (the chaos acts in listeners too), and on moves as well.
    const soon = (): void => queueMicrotask(check);
    function finish(): void {
      clearTimeout(deadline);
      for (const w of rooms) {
        w.watcher.off("status", soon);
        w.watcher.off("active", soon);
      }
      resolve();
    }
    function check(): void {
      for (const w of pending) if (agrees(w)) pending.delete(w);
      if (pending.size === 0) finish();
    }
    for (const w of rooms) w.watcher.on("status", soon);
    for (const w of rooms) w.watcher.on("active", soon);
    check();
  });

  const mismatches: string[] = [];
  const outcomes: Record<string, number> = {};
  for (const w of rooms) {
    const state: RoomState = w.watcher.state;
    const reported = state.status === "terminated" ? `terminated ${state.reason}` : state.status === "active" ? `active ${portKey(state.connection.exposedPort)}` : state.status;
    const outcome = `${w.provider === undefined ? "" : `${w.provider.rooms.name} `}${state.status === "terminated" ? `terminated (${state.reason})` : state.status}`;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    checkEvents(w, mismatches);
    if (w.provider !== undefined) {
      const { rooms: host, room } = w.provider;
      if (!agrees(w)) mismatches.push(`${host.name} ${w.roomId} (${room.plan}): reported ${reported}; events ${w.events.join(", ")}; ${host.describe(w.roomId)}`);
      mismatches.push(...host.check(room, w.actives));
      continue;
    }
    const truth = sim.truth(w.roomId);
    if (!agrees(w)) mismatches.push(`${w.mode} ${w.roomId}: reported ${reported}, truth ${truth?.status} ${portKey(truth?.exposedPort)}; events ${w.events.join(", ")}; truth ${JSON.stringify(truth?.history)}; looks ${sim.requestCount(w.roomId, "connectionInfo")}`);
    // Every active event carries a port the room really had, at most STALENESS_MS before the event.
    const history = truth?.history ?? [];
    for (const active of w.actives) {
      const fits = history.some((entry, i) => {
        if (entry.status !== "active" || portKey(entry.exposedPort) !== portKey(active.port)) return false;
        const from = sim.realTimeOf(entry.at);
        const next = history[i + 1];
        const until = next === undefined ? Number.POSITIVE_INFINITY : sim.realTimeOf(next.at);
        return from <= active.at + 5 && until >= active.at - STALENESS_MS;
      });
      if (!fits) mismatches.push(`${w.mode} ${w.roomId}: active at ${portKey(active.port)} (${active.at}) the room never had then`);
    }
    // A moved room's last active carries its final port.
    if (truth?.status === "active" && w.actives.length > 0 && portKey(w.actives.at(-1)?.port) !== portKey(truth.exposedPort)) {
      mismatches.push(`${w.mode} ${w.roomId}: last active ${portKey(w.actives.at(-1)?.port)} but the room is at ${portKey(truth.exposedPort)}`);
    }
  }

  // The budget: no 10-second window of the fleet's requests over rate × 10 (+ 1 for the burst).
  const fullest = maxInWindow(requestLog.all, 10_000);
  const budget10s = options.fleetBudgetPerSecond * 10 + 1;
  if (fullest > budget10s) mismatches.push(`budget: ${fullest} requests in a 10 s window, budget ${budget10s}`);
  // Edgegap's own, within it: no second with more status requests than its organisation's limit.
  const edgegapBudget = edgegap.source.budget?.key;
  const edgegapFullest1s = maxInWindow(requestLog.of(edgegapBudget), 1_000);
  if (edgegapFullest1s > EDGEGAP_RATE_LIMITS.status) mismatches.push(`edgegap budget: ${edgegapFullest1s} status requests in a 1 s window, limit ${EDGEGAP_RATE_LIMITS.status}`);
  // A 429 pauses its budget: no request of it starts before the pause ends (1 ms for the timer's rounding).
  for (const pause of pauses) {
    const early = requestLog.of(pause.budget).filter((t) => t > pause.at && t < pause.until - 1);
    if (early.length > 0) mismatches.push(`pause after a 429 (${pause.mode}) from ${pause.at} to ${pause.until}: ${early.length} requests started in it, first at ${early[0]}`);
  }

  // Stop everything, then measure what is left.
  for (const t of timers) clearTimeout(t);
  await Promise.all(rooms.map((w) => w.watcher.stop()));
  await fleet.close();
  await pollingFleet.close();
  await gatewayFleet.close();
  for (const provider of providers) await provider.close();
  // The last gateway shuts down gracefully: SIGTERM, exit 0, nothing on stderr.
  const last = gateways.at(-1)!;
  killed.add(last);
  last.kill("SIGTERM");
  const lastExit = await last.exited;
  if (lastExit.code !== 0 || lastExit.stderr !== "") unhandled.push(`gateway shutdown: code ${lastExit.code}, stderr ${lastExit.stderr.slice(0, 500)}`);
  await sim.close();
  // fetch's pooled sockets close once they read the server's FIN: give the event loop turns (I/O
  // included, no timer) until they have, or until it is clear that something stays.
  const left = await resourcesLeftAfter(resourcesBefore, 10_000);
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUncaught);
  const listeners = process.eventNames().reduce((n, name) => n + process.listenerCount(name), 0) - processListenersBefore;

  return {
    rooms: rooms.length,
    roomsByMode: Object.fromEntries(MODES.map((mode) => [mode, rooms.filter((w) => w.mode === mode).length])) as Record<Mode, number>,
    faults: { ...sim.faultCounts(), ...chaosCounts },
    agonesFaults: agones.faultCounts(),
    agonesStates: agones.truthCounts(),
    edgegapFaults: edgegap.faultCounts(),
    edgegapStates: edgegap.truthCounts(),
    fleetPauses: Object.fromEntries(MODES.map((mode) => [mode, pauses.filter((p) => p.mode === mode).length])),
    outcomes,
    events: rooms.reduce((n, w) => n + w.events.length, 0),
    gatewayClients,
    mismatches,
    fullest10sWindow: fullest,
    budget10s,
    requests: { all: requestLog.all.length, edgegap: requestLog.of(edgegapBudget).length, edgegapFullest1s },
    leftAfterStop: {
      timers: timers.size + wsSource.pendingTimers + providers.reduce((n, p) => n + p.pendingTimers, 0),
      fleetTimers: fleet.timers.size + pollingFleet.timers.size + gatewayFleet.timers.size,
      resources: left,
      listeners,
    },
    unhandled: [...unhandled, ...providers.flatMap((p) => p.errors)],
    elapsedMs: Date.now() - started,
  };
}

/** Nothing after terminated; no event twice in a row for one state. */
function checkEvents(w: Watched, mismatches: string[]): void {
  const terminal = w.events.findIndex((e) => e.startsWith("terminated"));
  if (terminal !== -1 && terminal !== w.events.length - 1) mismatches.push(`${w.mode} ${w.roomId}: events after terminated: ${w.events.join(", ")}`);
  for (let i = 1; i < w.events.length; i++) {
    const prev = w.events[i - 1]!.replace(" moved", "");
    const curr = w.events[i]!.replace(" moved", "");
    if (prev === curr || (prev.startsWith("starting") && curr.startsWith("starting"))) {
      mismatches.push(`${w.mode} ${w.roomId}: duplicate event: ${w.events.join(", ")}`);
      return;
    }
  }
}

export function formatSummary(summary: SoakSummary): string {
  const rows: string[] = [];
  rows.push(`| rooms | ${summary.rooms} (${MODES.map((mode) => `${mode} ${summary.roomsByMode[mode]}`).join(", ")}) |`);
  rows.push(`| faults injected | ${Object.entries(summary.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")} |`);
  rows.push(`| agones faults | ${Object.entries(summary.agonesFaults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")} |`);
  rows.push(`| agones states reached | ${Object.entries(summary.agonesStates).map(([k, n]) => `${k} ${n}`).join(", ")} |`);
  rows.push(`| edgegap faults | ${Object.entries(summary.edgegapFaults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")} |`);
  rows.push(`| edgegap states reached | ${Object.entries(summary.edgegapStates).map(([k, n]) => `${k} ${n}`).join(", ")} |`);
  rows.push(`| fleet pauses after a 429 | ${Object.entries(summary.fleetPauses).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")} |`);
  rows.push(`| outcomes | ${Object.entries(summary.outcomes).map(([k, n]) => `${k} ${n}`).join(", ")} |`);
  rows.push(`| events checked | ${summary.events} |`);
  const g = summary.gatewayClients;
  rows.push(`| gateway clients | ${g.disconnected} disconnections, ${g.fallbacks} fallbacks to polling, ${g.resumedPush} returns to push |`);
  rows.push(`| fleet budget | fullest 10 s window ${summary.fullest10sWindow} of ${summary.budget10s} |`);
  const r = summary.requests;
  rows.push(`| fleet requests | ${r.all} (edgegap ${r.edgegap}, its fullest 1 s window ${r.edgegapFullest1s} of ${EDGEGAP_RATE_LIMITS.status}) |`);
  rows.push(`| left after stop | ${summary.leftAfterStop.timers + summary.leftAfterStop.fleetTimers} timers, ${summary.leftAfterStop.listeners} process listeners, ${summary.leftAfterStop.resources.length} resources${summary.leftAfterStop.resources.length ? ` (${summary.leftAfterStop.resources.join(", ")})` : ""} |`);
  rows.push(`| unhandled errors | ${summary.unhandled.length} |`);
  rows.push(`| mismatches | ${summary.mismatches.length} |`);
  rows.push(`| elapsed | ${summary.elapsedMs} ms |`);
  return ["| soak | |", "|---|---|", ...rows].join("\n");
}
