/**
 * The demo: the main job with no account. Starts a provider's fake host in-process, creates a mix of
 * rooms on it, watches them all through one fleet, and compares what the watchers reported with the
 * host's ground truth. What is provider-specific (the host, the kinds of rooms, what each is meant to
 * end as) is a DemoBackend (./backend.ts); this driver is the same for every provider.
 */
import type { Connection } from "../core/observation.js";
import { ConfigError } from "../core/errors.js";
import { sameConnection } from "../core/observation.js";
import type { RoomStatus } from "../core/room-state.js";
import { validateDurationMs } from "../core/validate.js";
import type { HintCounts } from "../simulator/hints.js";
import { Fleet } from "../watch/fleet.js";
import { RoomWatcher } from "../watch/room-watcher.js";
import type { DemoBackend, DemoRoom } from "./backend.js";
import { startAgonesDemo } from "./agones-backend.js";
import { startEdgegapDemo } from "./edgegap-backend.js";
import { HathoraDemoKind, startHathoraDemo } from "./hathora-backend.js";

/** The Hathora demo's kinds of rooms (each provider's demo has its own). */
export const DemoKind = HathoraDemoKind;
export type DemoKind = string;

/** The providers with a demo, and how each starts. */
const BACKENDS: Readonly<Record<string, (options: BackendOptions) => Promise<DemoBackend>>> = {
  hathora: startHathoraDemo,
  agones: startAgonesDemo,
  edgegap: startEdgegapDemo,
};
export const DEMO_PROVIDERS: readonly string[] = Object.keys(BACKENDS);

interface BackendOptions {
  readonly seed: number;
  readonly timeScale: number;
  readonly counts: Partial<Record<string, number>>;
  readonly gateway: boolean;
}

export interface DemoOptions {
  /** Which provider's fake host. Default "hathora". */
  provider?: string | undefined;
  /** Simulator seed. Default 7. */
  seed?: number | undefined;
  /** Simulated ms per real ms. Default 20 (the 100 s bind deadline takes 5 s). */
  timeScale?: number | undefined;
  /** Rooms of each kind. Hathora's default: warm 6, cold 4, never-ready 1, destroyed-mid-start 2, rescheduled 2. */
  counts?: Partial<Record<string, number>> | undefined;
  /** Give up after this long (real ms). Default 60,000. */
  deadlineMs?: number | undefined;
  /** Called on every event, for live progress; and with a `waiting` progress after each quiet spell of `progressIntervalMs`. */
  onProgress?: ((progress: DemoProgress) => void) | undefined;
  /** While no room changes, how often onProgress hears what the demo still waits for (real ms). Default 250. */
  progressIntervalMs?: number | undefined;
  /** Watch through an in-process gateway (a WebSocket source), the simulator sending readiness hints. Default false: poll. */
  gateway?: boolean | undefined;
  /** Called once the fake host is up, with what it is ("simulator seed 7, time scale 20x"). */
  onStart?: ((description: string) => void) | undefined;
  /** With `gateway`: called once it is up, with its dashboard's URL (the demo's throwaway metrics token in the fragment). */
  onDashboard?: ((url: string) => void) | undefined;
  /**
   * Called once the demo is over and before anything closes, with its result: every room stays watched
   * (settled ones too, so a dashboard still shows them) until the promise settles. Default none: each
   * room's watcher stops once it has settled, and everything closes at the end.
   */
  holdOpen?: ((result: DemoResult) => Promise<void>) | undefined;
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
  readonly reported: { readonly status: RoomStatus; readonly reason: string | undefined; readonly detail: string | undefined; readonly connection: Connection | undefined; readonly moved: boolean };
  /** What the simulator says happened. */
  readonly truth: { readonly status: string; readonly connection: Connection | undefined; readonly detail: string | undefined };
  readonly matches: boolean;
  /** Real ms from create to the watcher's first `active`, if it became active. */
  readonly timeToActiveMs: number | undefined;
  /** Real ms from the simulator turning the room active to the watcher's `active` event. */
  readonly detectionDelayMs: number | undefined;
  /** Requests the watchers sent the host for this room. */
  readonly requests: number;
}

export interface DemoResult {
  /** The fake host, in words ("simulator seed 7, time scale 20x"). */
  readonly description: string;
  readonly rooms: readonly DemoRoomResult[];
  readonly elapsedMs: number;
  readonly timedOut: boolean;
  /** With `gateway`: the hints the simulated game servers sent it, and its upstream requests. */
  readonly gateway: { readonly hints: HintCounts; readonly upstreamRequests: number } | undefined;
}

const DEFAULT_PROGRESS_INTERVAL_MS = 250;

interface Tracked extends DemoRoom {
  readonly watcher: RoomWatcher;
  firstActiveAt: number | undefined;
  moved: boolean;
  /** Taken when the room reached its final state; its watcher is stopped then. */
  result: DemoRoomResult | undefined;
}

export async function runDemoScenario(options: DemoOptions = {}): Promise<DemoResult> {
  const progressIntervalMs = validateDurationMs("progressIntervalMs", options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, { allowZero: false });
  const providerName = options.provider ?? "hathora";
  const start = BACKENDS[providerName];
  if (start === undefined) throw new ConfigError(`no demo for provider ${JSON.stringify(providerName)}: expected one of ${DEMO_PROVIDERS.join(", ")}`);
  const backend = await start({ seed: options.seed ?? 7, timeScale: options.timeScale ?? 20, counts: options.counts ?? {}, gateway: options.gateway === true });
  const fleet = new Fleet({ maxRequestsPerSecond: backend.maxRequestsPerSecond });
  const tracked = new Map<string, Tracked>();

  /** Fires after each quiet spell, to say what the demo is still waiting for. */
  let quiet: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  // Whatever happened: every watcher, the fleet, then the fake host.
  const closeAll = (): Promise<void> =>
    (closing ??= (async () => {
      clearTimeout(quiet);
      await Promise.all([...tracked.values()].map((t) => t.watcher.stop()));
      await fleet.close();
      await backend.close();
    })());
  try {
    options.onStart?.(backend.description);
    if (backend.dashboardUrl !== undefined) options.onDashboard?.(backend.dashboardUrl);
    const started = performance.now();
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });

    const statusCounts = (): Record<RoomStatus, number> => {
      const result: Record<RoomStatus, number> = { unknown: 0, starting: 0, active: 0, terminated: 0 };
      for (const t of tracked.values()) result[t.result?.reported.status ?? t.watcher.status]++;
      return result;
    };
    const settled = (t: Tracked): boolean => backend.settled(t, t.watcher.status);
    const pendingRooms = (): Tracked[] => [...tracked.values()].filter((r) => r.result === undefined && !settled(r));
    let holding = false;
    const progress = (t: Tracked, event: string, detail: string): void => {
      // The demo is over while held open: its progress has been told.
      if (holding) return;
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
        progress(first, "waiting", waitingFor(pending, performance.now(), backend));
      } catch (error) {
        // Thrown from a timer, it would be an uncaught exception: end the demo with it instead.
        progressFailure = { error };
        finish();
        return;
      }
      quiet?.refresh();
    };
    /** Once a room has reached its final state, record it and stop watching it. */
    const checkDone = (t: Tracked): void => {
      if (t.result === undefined && settled(t)) {
        t.result = resultOf(t, backend);
        // Held open, a settled room stays watched: the gateway's dashboard shows it as it is.
        if (options.holdOpen === undefined) void t.watcher.stop();
      }
      if (backend.laterRooms() === 0 && [...tracked.values()].every((r) => r.result !== undefined)) finish();
    };

    const watch = (kind: DemoKind): void => {
      const createdAt = performance.now();
      const roomId = backend.create(kind);
      const watcher = new RoomWatcher({ ...backend.watchOptions(roomId), roomId, fleet, timeoutMs: 60_000 });
      const t: Tracked = { roomId, kind, createdAt, watcher, firstActiveAt: undefined, moved: false, result: undefined };
      tracked.set(roomId, t);
      watcher.on("starting", (e) => {
        progress(t, "starting", e.rescheduled ? "rescheduled" : "");
        backend.onStarting?.(t);
      });
      watcher.on("active", (e) => {
        t.firstActiveAt ??= performance.now();
        t.moved ||= e.moved;
        progress(t, "active", `${e.exposedPort.host}:${e.exposedPort.port}${e.moved ? " (moved)" : ""}`);
        for (const next of backend.onActive?.(t) ?? []) watch(next);
        checkDone(t);
      });
      watcher.on("terminated", (e) => {
        if (e.reason === "stopped") return;
        progress(t, "terminated", e.detail === undefined ? e.reason : `${e.reason}: ${e.detail}`);
        checkDone(t);
      });
      watcher.on("error", (e) => progress(t, "error", e.error.message));
      watcher.start();
      progress(t, "created", kind);
    };

    for (const kind of backend.initialKinds) watch(kind);
    if (tracked.size === 0) finish();
    if (options.onProgress !== undefined) quiet = setTimeout(sayWaiting, progressIntervalMs);

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.deadlineMs ?? 60_000);
    const timedOut = await Promise.race([finished.then(() => false), new Promise<boolean>((resolve) => deadline.signal.addEventListener("abort", () => resolve(true)))]);
    clearTimeout(timer);
    clearTimeout(quiet);
    if (progressFailure !== undefined) throw progressFailure.error;
    const elapsedMs = Math.round(performance.now() - started);

    const rooms = [...tracked.values()].map((t) => t.result ?? resultOf(t, backend));
    holding = true;
    if (options.holdOpen !== undefined) await options.holdOpen({ description: backend.description, rooms, elapsedMs, timedOut, gateway: backend.gatewayFigures?.() });
    await closeAll();
    return { description: backend.description, rooms, elapsedMs, timedOut, gateway: backend.gatewayFigures?.() };
  } finally {
    await closeAll();
  }
}

/** "2 rooms: a (cold) still starting; b (never-ready) still starting, ends at its 100 s bind deadline in ~3.1 s". */
function waitingFor(pending: readonly Tracked[], now: number, backend: DemoBackend): string {
  const rooms = pending.map((t) => {
    const status = t.watcher.status;
    const what = status === "unknown" ? "not seen yet" : status === "starting" ? "still starting" : status === "active" ? "active, waiting for its move" : status;
    return `${t.roomId} (${t.kind}) ${what}${backend.waitingNote?.(t, now) ?? ""}`;
  });
  return `${pending.length} room${pending.length === 1 ? "" : "s"}: ${rooms.join("; ")}`;
}

function resultOf(t: Tracked, backend: DemoBackend): DemoRoomResult {
  const state = t.watcher.state;
  const truth = backend.truth(t.roomId);
  const reported = {
    status: state.status,
    reason: state.status === "terminated" ? state.reason : undefined,
    detail: state.status === "terminated" ? state.detail : undefined,
    connection: t.watcher.connection,
    moved: t.moved,
  };
  const matches =
    truth.status === "active"
      ? reported.status === "active" && reported.connection !== undefined && truth.connection !== undefined && sameConnection(reported.connection, truth.connection) && (!truth.moved || t.moved)
      : reported.status === "terminated" && reported.reason === truth.status && (truth.detail === undefined || reported.detail === truth.detail);
  return {
    roomId: t.roomId,
    kind: t.kind,
    reported,
    truth: { status: truth.status, connection: truth.connection, detail: truth.detail },
    matches,
    timeToActiveMs: t.firstActiveAt === undefined ? undefined : Math.round(t.firstActiveAt - t.createdAt),
    detectionDelayMs: t.firstActiveAt === undefined || truth.activeAt === undefined ? undefined : Math.max(0, Math.round(t.firstActiveAt - truth.activeAt)),
    requests: backend.requests(t.roomId),
  };
}
