/**
 * The demo on the Hathora-compatible simulator: warm and cold rooms, one that never binds its port, rooms
 * destroyed mid-start, rooms whose process crashes so they move. With `gateway`, the watchers are fed by
 * an in-process gateway over WebSocket, and the simulator plays the game servers, sending the gateway a
 * readiness hint as each room turns active.
 */
import { randomBytes } from "node:crypto";
import { ConfigError } from "../core/errors.js";
import { Gateway } from "../gateway/server.js";
import type { Region } from "../providers/hathora/schemas.js";
import { Simulator } from "../simulator/simulator.js";
import { BIND_DEADLINE_MS } from "../simulator/world.js";
import { WebSocketSource } from "../sources/websocket-source.js";
import type { DemoBackend, DemoRoom } from "./backend.js";

export const HathoraDemoKind = {
  WARM: "warm",
  COLD: "cold",
  NEVER_READY: "never-ready",
  DESTROYED_MID_START: "destroyed-mid-start",
  RESCHEDULED: "rescheduled",
} as const;
export type HathoraDemoKind = (typeof HathoraDemoKind)[keyof typeof HathoraDemoKind];

export interface HathoraDemoOptions {
  readonly seed: number;
  readonly timeScale: number;
  readonly counts: Partial<Record<string, number>>;
  readonly gateway: boolean;
}

const DEFAULT_COUNTS: Record<HathoraDemoKind, number> = { warm: 6, cold: 4, "never-ready": 1, "destroyed-mid-start": 2, rescheduled: 2 };
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
const SCENARIOS: Record<HathoraDemoKind, { region: Region; scenario: "warm" | "cold" | "never" }> = {
  warm: { region: MAIN_REGION, scenario: "warm" },
  cold: { region: MAIN_REGION, scenario: "cold" },
  "never-ready": { region: MAIN_REGION, scenario: "never" },
  "destroyed-mid-start": { region: MAIN_REGION, scenario: "never" },
  rescheduled: { region: CRASH_REGION, scenario: "cold" },
};

function isKind(kind: string): kind is HathoraDemoKind {
  return Object.hasOwn(DEFAULT_COUNTS, kind);
}

export async function startHathoraDemo(options: HathoraDemoOptions): Promise<DemoBackend> {
  const counts: Record<HathoraDemoKind, number> = { ...DEFAULT_COUNTS };
  for (const [kind, count] of Object.entries(options.counts)) {
    if (!isKind(kind)) throw new ConfigError(`the Hathora demo has no room kind ${JSON.stringify(kind)}: expected one of ${Object.keys(DEFAULT_COUNTS).join(", ")}`);
    if (count === undefined || !Number.isInteger(count) || count < 0) throw new ConfigError(`demo count of ${kind} must be a non-negative integer`);
    counts[kind] = count;
  }
  if (counts.warm > counts.cold * (ROOMS_PER_PROCESS - 1)) {
    throw new ConfigError(`${counts.warm} warm rooms need at least ${Math.ceil(counts.warm / (ROOMS_PER_PROCESS - 1))} cold rooms, whose processes host them`);
  }
  const simulator = await Simulator.start({
    seed: options.seed,
    timeScale: options.timeScale,
    roomsPerProcess: ROOMS_PER_PROCESS,
    ...(options.gateway ? { tickMs: HINTING_TICK_MS } : {}),
  });
  let gateway: Gateway | undefined;
  let source: WebSocketSource | undefined;
  const metricsToken = randomBytes(16).toString("hex");
  try {
    if (options.gateway) {
      const hintToken = randomBytes(16).toString("hex");
      gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP_ID, hintToken, metricsToken, dashboard: true, pollOptions: { activePollIntervalMs: ACTIVE_POLL_INTERVAL_MS } });
      simulator.sendHints({ gatewayUrl: gateway.url, token: hintToken });
      source = new WebSocketSource({ url: gateway.url });
    }
  } catch (error) {
    await simulator.close();
    throw error;
  }
  let warmToCreate = counts.warm;
  const crashed = new Set<string>();
  let upstreamRequests: number | undefined;
  const initialKinds = (["cold", "never-ready", "destroyed-mid-start", "rescheduled"] as const).flatMap((kind) => Array.from({ length: counts[kind] }, () => kind));
  return {
    description: `simulator seed ${options.seed}, time scale ${options.timeScale}x${options.gateway ? ", watching through a gateway (readiness hints on)" : ""}`,
    initialKinds,
    dashboardUrl: gateway === undefined ? undefined : `${gateway.dashboardUrl}#token=${metricsToken}`,
    laterRooms: () => warmToCreate,
    create(kind) {
      if (!isKind(kind)) throw new ConfigError(`unknown demo room kind ${kind}`);
      return simulator.createRoom(APP_ID, SCENARIOS[kind]).roomId;
    },
    watchOptions: () =>
      source === undefined
        ? { appId: APP_ID, baseUrl: simulator.url, activePollIntervalMs: ACTIVE_POLL_INTERVAL_MS }
        : { source },
    onStarting(room) {
      // Destroyed once its watcher has seen it starting: mid-start by construction, however slow the
      // machine (a destroy on the simulated clock alone could land before the first look).
      if (room.kind === "destroyed-mid-start") simulator.destroyRoom(APP_ID, room.roomId);
    },
    onActive(room) {
      if (room.kind === "rescheduled" && !crashed.has(room.roomId)) {
        crashed.add(room.roomId);
        const processId = simulator.processOf(room.roomId);
        if (processId !== undefined) simulator.crashProcess(processId);
      }
      if (room.kind !== "cold") return [];
      // Warm rooms land on running processes with spare capacity: each cold room that turns active brings
      // one such process, and takes up to ROOMS_PER_PROCESS - 1 of the warm rooms still to create.
      const warm = Math.min(ROOMS_PER_PROCESS - 1, warmToCreate);
      warmToCreate -= warm;
      return Array.from({ length: warm }, () => "warm");
    },
    settled(room, status) {
      switch (room.kind) {
        case "warm":
        case "cold":
          return status === "active";
        case "rescheduled":
          return status === "active" && room.moved;
        default:
          return status === "terminated";
      }
    },
    truth(roomId) {
      const truth = simulator.truth(roomId);
      const activeEntry = truth?.history.find((h) => h.status === "active");
      return {
        status: truth?.status ?? "unknown",
        connection: truth?.exposedPort === undefined ? undefined : { exposedPort: truth.exposedPort, additionalExposedPorts: [] },
        moved: crashed.has(roomId),
        activeAt: activeEntry === undefined ? undefined : simulator.realTimeOf(activeEntry.at),
      };
    },
    requests: (roomId) => simulator.requestCount(roomId, "connectionInfo"),
    waitingNote(room: DemoRoom, now: number) {
      if (room.kind !== "never-ready") return "";
      const deadlineInMs = room.createdAt + BIND_DEADLINE_MS / options.timeScale - now;
      return `, ends at its ${BIND_DEADLINE_MS / 1000} s bind deadline in ~${(Math.max(0, deadlineInMs) / 1000).toFixed(1)} s`;
    },
    gatewayFigures() {
      const requests = upstreamRequests ?? gateway?.stats.upstreamRequests;
      if (requests === undefined) return undefined;
      const { sent, accepted, failed } = simulator.hintStats();
      return { hints: { sent, accepted, failed }, upstreamRequests: requests };
    },
    async close() {
      upstreamRequests = gateway?.stats.upstreamRequests;
      // The simulator waits for the hints it has sent to be answered, so the gateway closes after it.
      await simulator.close();
      await gateway?.close();
    },
  };
}
