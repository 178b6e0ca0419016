/**
 * The demo: the main job with no account. Starts the simulator in-process, creates a mix of rooms
 * (warm, cold, never ready, destroyed mid-start, rescheduled), watches them all through one fleet,
 * and compares what the watchers reported with the simulator's ground truth. With `gateway`, the
 * watchers are fed by an in-process gateway over WebSocket instead of polling, and the simulator
 * plays the game servers, sending the gateway a readiness hint as each room turns active.
 */
import { randomBytes } from "node:crypto";
import type { Connection } from "../core/observation.js";
import { ConfigError } from "../core/errors.js";
import { sameConnection } from "../core/observation.js";
import type { RoomStatus } from "../core/room-state.js";
import { Gateway } from "../gateway/server.js";
import type { HintCounts } from "../simulator/hints.js";
import { Simulator } from "../simulator/simulator.js";
import { BIND_DEADLINE_MS } from "../simulator/world.js";
import { WebSocketSource } from "../sources/websocket-source.js";
import { Fleet } from "../watch/fleet.js";
import { validateDurationMs } from "../core/validate.js";
import { RoomWatcher } from "../watch/room-watcher.js";
import type { Region } from "../providers/hathora/schemas.js";

export const DemoKind = {
  WARM: "warm",
  COLD: "cold",
  NEVER_READY: "never-ready",
  DESTROYED_MID_START: "destroyed-mid-start",
  RESCHEDULED: "rescheduled",
} as const;
export type DemoKind = (typeof DemoKind)[keyof typeof DemoKind];

export interface DemoOptions {
  /** Simulator seed. Default 7. */
  seed?: number | undefined;
  /** Simulated ms per real ms. Default 20 (the 100 s bind deadline takes 5 s). */
  timeScale?: number | undefined;
  /** Rooms of each kind. Default warm 6, cold 4, never-ready 1, destroyed-mid-start 2, rescheduled 2. */
  counts?: Partial<Record<DemoKind, number>> | undefined;
  /** Give up after this long (real ms). Default 60,000. */
  deadlineMs?: number | undefined;
  /** Called on every event, for live progress; and with a `waiting` progress after each quiet spell of `progressIntervalMs`. */
  onProgress?: ((progress: DemoProgress) => void) | undefined;
  /** While no room changes, how often onProgress hears what the demo still waits for (real ms). Default 250. */
  progressIntervalMs?: number | undefined;
  /** Watch through an in-process gateway (a WebSocket source), the simulator sending readiness hints. Default false: poll. */
  gateway?: boolean | undefined;
}

export interface DemoProgress {
  /** A watcher's event (`created`, `starting`, `active`, `terminated`, `error`), or `waiting` when nothing happened for a while. */
  readonly event: string;
  /** The room the event is about; for `waiting`, the first room still waited for. */
  readonly roomId: string;
  readonly kind: DemoKind;
  /** For `waiting`, what the demo waits for, e.g. "1 room: x1 (never-ready) still starting; ...". */
  readonly detail: string;
  readonly counts: Readonly<Record<RoomStatus, number>>;
  readonly elapsedMs: number;
  /** The rooms that have not reached their final state yet, oldest first. */
  readonly pending: readonly DemoPendingRoom[];
}

/** A room the demo still waits for. */
export interface DemoPendingRoom {
  readonly roomId: string;
  readonly kind: DemoKind;
  /** What its watcher says now. */
  readonly status: RoomStatus;
}

export interface DemoRoomResult {
  readonly roomId: string;
  readonly kind: DemoKind;
  /** What the watcher reported last: a status, the reason if it ended, the connection if active. */
  readonly reported: { readonly status: RoomStatus; readonly reason: string | undefined; readonly connection: Connection | undefined; readonly moved: boolean };
  /** What the simulator says happened. */
  readonly truth: { readonly status: string; readonly connection: Connection | undefined };
  readonly matches: boolean;
  /** Real ms from create to the watcher's first `active`, if it became active. */
  readonly timeToActiveMs: number | undefined;
  /** Real ms from the simulator turning the room active to the watcher's `active` event. */
  readonly detectionDelayMs: number | undefined;
  /** Connection-info requests the watcher sent for this room. */
  readonly requests: number;
}

export interface DemoResult {
  readonly rooms: readonly DemoRoomResult[];
  readonly elapsedMs: number;
  readonly timedOut: boolean;
  /** With `gateway`: the hints the simulated game servers sent it, and its upstream requests. */
  readonly gateway: { readonly hints: HintCounts; readonly upstreamRequests: number } | undefined;
}

const DEFAULT_PROGRESS_INTERVAL_MS = 250;
const DEFAULT_COUNTS: Record<DemoKind, number> = { warm: 6, cold: 4, "never-ready": 1, "destroyed-mid-start": 2, rescheduled: 2 };
const APP_ID = "demo-app";
/** Rooms per simulated process: each cold room's process has room for this many minus one warm ones. */
const ROOMS_PER_PROCESS = 4;
/** How often the demo looks at an active room (directly or through the gateway), to see a move soon. */
const ACTIVE_POLL_INTERVAL_MS = 250;
/** The simulator's tick with a gateway: rooms turn active (and hints go out) on time, unpolled. */
const HINTING_TICK_MS = 5;
/** Rescheduled rooms live in their own region so that crashing their process moves nothing else. */
const MAIN_REGION: Region = "Seattle";
const CRASH_REGION: Region = "London";

interface Tracked {
  readonly roomId: string;
  readonly kind: DemoKind;
  readonly createdAt: number;
  readonly watcher: RoomWatcher;
  firstActiveAt: number | undefined;
  moved: boolean;
  crashed: boolean;
  /** Taken when the room reached its final state; its watcher is stopped then. */
  result: DemoRoomResult | undefined;
}

export async function runDemoScenario(options: DemoOptions = {}): Promise<DemoResult> {
  const counts = { ...DEFAULT_COUNTS, ...options.counts };
  for (const [kind, count] of Object.entries(counts)) {
    if (!Number.isInteger(count) || count < 0) throw new ConfigError(`demo count of ${kind} must be a non-negative integer`);
  }
  if (counts.warm > counts.cold * (ROOMS_PER_PROCESS - 1)) {
    throw new ConfigError(`${counts.warm} warm rooms need at least ${Math.ceil(counts.warm / (ROOMS_PER_PROCESS - 1))} cold rooms, whose processes host them`);
  }
  const progressIntervalMs = validateDurationMs("progressIntervalMs", options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, { allowZero: false });
  const timeScale = options.timeScale ?? 20;
  const viaGateway = options.gateway === true;
  const simulator = await Simulator.start({
    seed: options.seed ?? 7,
    timeScale,
    roomsPerProcess: ROOMS_PER_PROCESS,
    ...(viaGateway ? { tickMs: HINTING_TICK_MS } : {}),
  });
  let gateway: Gateway | undefined;
  let source: WebSocketSource | undefined;
  const fleet = new Fleet();
  const tracked = new Map<string, Tracked>();
  /** Fires after each quiet spell, to say what the demo is still waiting for. */
  let quiet: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  // Whatever happened: every watcher, the fleet, then the simulator, which waits for the hints it has
  // sent to be answered, so the gateway closes after it.
  const closeAll = (): Promise<void> =>
    (closing ??= (async () => {
      clearTimeout(quiet);
      await Promise.all([...tracked.values()].map((t) => t.watcher.stop()));
      await fleet.close();
      await simulator.close();
      await gateway?.close();
    })());
  try {
    if (viaGateway) {
      const hintToken = randomBytes(16).toString("hex");
      gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP_ID, hintToken, pollOptions: { activePollIntervalMs: ACTIVE_POLL_INTERVAL_MS } });
      simulator.sendHints({ gatewayUrl: gateway.url, token: hintToken });
      source = new WebSocketSource({ url: gateway.url });
    }
    const started = performance.now();
    let warmToCreate = counts.warm;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });

    const statusCounts = (): Record<RoomStatus, number> => {
      const result: Record<RoomStatus, number> = { unknown: 0, starting: 0, active: 0, terminated: 0 };
      for (const t of tracked.values()) result[t.result?.reported.status ?? t.watcher.status]++;
      return result;
    };
    const pendingRooms = (): Tracked[] => [...tracked.values()].filter((r) => r.result === undefined && !settled(r));
    const progress = (t: Tracked, event: string, detail: string): void => {
      quiet?.refresh();
      options.onProgress?.({
        event,
        roomId: t.roomId,
        kind: t.kind,
        detail,
        counts: statusCounts(),
        elapsedMs: Math.round(performance.now() - started),
        pending: pendingRooms().map((r) => ({ roomId: r.roomId, kind: r.kind, status: r.watcher.status })),
      });
    };
    // A quiet spell is not a frozen demo: say what it waits for (the never-ready room waits out its bind
    // deadline, 5 s at the default time scale, with no event in between).
    let progressFailure: { error: unknown } | undefined;
    const sayWaiting = (): void => {
      const pending = pendingRooms();
      const first = pending[0];
      if (first === undefined) return;
      try {
        progress(first, "waiting", waitingFor(pending, performance.now(), timeScale));
      } catch (error) {
        // Thrown from a timer, it would be an uncaught exception: end the demo with it instead.
        progressFailure = { error };
        finish();
        return;
      }
      quiet?.refresh();
    };
    const settled = (t: Tracked): boolean => {
      switch (t.kind) {
        case "warm":
        case "cold":
          return t.watcher.status === "active";
        case "rescheduled":
          return t.watcher.status === "active" && t.moved;
        default:
          return t.watcher.status === "terminated";
      }
    };
    /** Once a room has reached its final state, record it and stop watching it. */
    const checkDone = (t: Tracked): void => {
      if (t.result === undefined && settled(t)) {
        t.result = resultOf(t, simulator);
        void t.watcher.stop();
      }
      if (warmToCreate === 0 && [...tracked.values()].every((r) => r.result !== undefined)) finish();
    };

    const watch = (kind: DemoKind, region: Region, scenario: "warm" | "cold" | "never"): void => {
      const createdAt = performance.now();
      const { roomId } = simulator.createRoom(APP_ID, { region, scenario });
      const watcher =
        source === undefined
          ? new RoomWatcher({ roomId, appId: APP_ID, baseUrl: simulator.url, fleet, activePollIntervalMs: ACTIVE_POLL_INTERVAL_MS, timeoutMs: 60_000 })
          : new RoomWatcher({ roomId, source, fleet, timeoutMs: 60_000 });
      const t: Tracked = { roomId, kind, createdAt, watcher, firstActiveAt: undefined, moved: false, crashed: false, result: undefined };
      tracked.set(roomId, t);
      watcher.on("starting", (e) => {
        progress(t, "starting", e.rescheduled ? "rescheduled" : "");
        // Destroyed once its watcher has seen it starting: mid-start by construction, however slow the
        // machine (a destroy on the simulated clock alone could land before the first look).
        if (kind === "destroyed-mid-start") simulator.destroyRoom(APP_ID, roomId);
      });
      watcher.on("active", (e) => {
        t.firstActiveAt ??= performance.now();
        t.moved ||= e.moved;
        progress(t, "active", `${e.exposedPort.host}:${e.exposedPort.port}${e.moved ? " (moved)" : ""}`);
        if (kind === "rescheduled" && !t.crashed) {
          t.crashed = true;
          const processId = simulator.processOf(roomId);
          if (processId !== undefined) simulator.crashProcess(processId);
        }
        if (kind === "cold") createWarmRooms();
        checkDone(t);
      });
      watcher.on("terminated", (e) => {
        if (e.reason === "stopped") return;
        progress(t, "terminated", e.reason);
        checkDone(t);
      });
      watcher.on("error", (e) => progress(t, "error", e.error.message));
      watcher.start();
      progress(t, "created", kind);
    };
    // Warm rooms land on running processes with spare capacity: each cold room that turns active brings
    // one such process, and takes up to ROOMS_PER_PROCESS - 1 of the warm rooms still to create.
    const createWarmRooms = (): void => {
      for (let i = 0; i < ROOMS_PER_PROCESS - 1 && warmToCreate > 0; i++) {
        warmToCreate--;
        watch("warm", MAIN_REGION, "warm");
      }
    };

    for (let i = 0; i < counts.cold; i++) watch("cold", MAIN_REGION, "cold");
    for (let i = 0; i < counts["never-ready"]; i++) watch("never-ready", MAIN_REGION, "never");
    for (let i = 0; i < counts["destroyed-mid-start"]; i++) watch("destroyed-mid-start", MAIN_REGION, "never");
    for (let i = 0; i < counts.rescheduled; i++) watch("rescheduled", CRASH_REGION, "cold");
    if (tracked.size === 0) finish();
    if (options.onProgress !== undefined) quiet = setTimeout(sayWaiting, progressIntervalMs);

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.deadlineMs ?? 60_000);
    const timedOut = await Promise.race([finished.then(() => false), new Promise<boolean>((resolve) => deadline.signal.addEventListener("abort", () => resolve(true)))]);
    clearTimeout(timer);
    clearTimeout(quiet);
    if (progressFailure !== undefined) throw progressFailure.error;
    const elapsedMs = Math.round(performance.now() - started);

    const rooms = [...tracked.values()].map((t) => t.result ?? resultOf(t, simulator));
    const upstreamRequests = gateway?.stats.upstreamRequests;
    await closeAll();
    const { sent, accepted, failed } = simulator.hintStats();
    return { rooms, elapsedMs, timedOut, gateway: upstreamRequests === undefined ? undefined : { hints: { sent, accepted, failed }, upstreamRequests } };
  } finally {
    await closeAll();
  }
}

/** "2 rooms: a (cold) still starting; b (never-ready) still starting, ends at its 100 s bind deadline in ~3.1 s". */
function waitingFor(pending: readonly Tracked[], now: number, timeScale: number): string {
  const rooms = pending.map((t) => {
    const status = t.watcher.status;
    const what = status === "unknown" ? "not seen yet" : status === "starting" ? "still starting" : status === "active" ? "active, waiting for its move" : status;
    const deadlineInMs = t.createdAt + BIND_DEADLINE_MS / timeScale - now;
    const deadline = t.kind === "never-ready" ? `, ends at its ${BIND_DEADLINE_MS / 1000} s bind deadline in ~${(Math.max(0, deadlineInMs) / 1000).toFixed(1)} s` : "";
    return `${t.roomId} (${t.kind}) ${what}${deadline}`;
  });
  return `${pending.length} room${pending.length === 1 ? "" : "s"}: ${rooms.join("; ")}`;
}

function resultOf(t: Tracked, simulator: Simulator): DemoRoomResult {
  const state = t.watcher.state;
  const truth = simulator.truth(t.roomId);
  const truthConnection = truth?.exposedPort === undefined ? undefined : { exposedPort: truth.exposedPort, additionalExposedPorts: [] };
  const reported = {
    status: state.status,
    reason: state.status === "terminated" ? state.reason : undefined,
    connection: t.watcher.connection,
    moved: t.moved,
  };
  const truthStatus = truth?.status ?? "unknown";
  const matches =
    truthStatus === "active"
      ? reported.status === "active" && reported.connection !== undefined && truthConnection !== undefined && sameConnection(reported.connection, truthConnection) && (t.kind !== "rescheduled" || t.moved)
      : reported.status === "terminated" && reported.reason === truthStatus;
  const activeEntry = truth?.history.find((h) => h.status === "active");
  return {
    roomId: t.roomId,
    kind: t.kind,
    reported,
    truth: { status: truthStatus, connection: truthConnection },
    matches,
    timeToActiveMs: t.firstActiveAt === undefined ? undefined : Math.round(t.firstActiveAt - t.createdAt),
    detectionDelayMs: t.firstActiveAt === undefined || activeEntry === undefined ? undefined : Math.max(0, Math.round(t.firstActiveAt - simulator.realTimeOf(activeEntry.at))),
    requests: simulator.requestCount(t.roomId, "connectionInfo"),
  };
}
