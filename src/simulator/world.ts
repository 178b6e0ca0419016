/**
 * The simulated world: apps' rooms, the processes that host them, and their allocations.
 * No timers and no I/O: every method takes the simulated time `nowMs` and first runs every lifecycle
 * event due at or before it, in time order. Results therefore depend only on the seed, the calls and
 * their times, never on when a timer happened to fire.
 *
 * Room lifecycle (ground truth):
 *
 *   create ──▶ starting ──▶ active ──▶ destroyed
 *                 ▲  │        │
 *                 │  │        └──▶ starting (process crashed: new allocation on a new cold process)
 *                 │  └──▶ destroyed (never bound its port within 100 s, or destroyed mid-start)
 *   resume ───────┘   suspended ◀── suspend (from starting or active)
 */
import { ConfigError } from "../core/errors.js";
import type { ConnectionInfoV1, ConnectionInfoV2, Region, ResumeRoomResponse, Room, RoomAllocation, RoomStatus, RoomWithoutAllocations } from "../providers/hathora/schemas.js";
import type { ExposedPort } from "../core/observation.js";
import { HATHORA_ID_PATTERN } from "../providers/hathora/schemas.js";
import { EventQueue } from "./event-queue.js";
import { createRandom, type Random } from "./random.js";

/** A process that has not bound its port this long after it started is terminated (reference: 100 s). */
export const BIND_DEADLINE_MS = 100_000;
/** A process without rooms for this long is stopped (reference: idle processes stop after 5 min). */
export const IDLE_PROCESS_STOP_MS = 300_000;
export const COLD_START_SIGMA = 0.35;
export const COLD_START_MIN_MS = 1_500;
export const COLD_START_MAX_MS = 30_000;
/** Ports are drawn from [PORT_MIN, PORT_MAX). */
export const PORT_MIN = 20_000;
export const PORT_MAX = 60_000;
const ADDITIONAL_PORT_NAMES = ["debug", "metrics"] as const;
const ROOM_ID_ALPHABET = [..."abcdefghijklmnopqrstuvwxyz0123456789"];
const ROOM_ID_LENGTH = 13;

export const Scenario = {
  /** Lands on a running process with spare capacity; active after `warmStartMs`. */
  WARM: "warm",
  /** Starts a new process; active after a log-normal cold start. */
  COLD: "cold",
  /** Starts a process that never binds its port; destroyed at the 100 s bind deadline. */
  NEVER: "never",
  /** A cold start that is destroyed at a seeded instant before it would have become active. */
  DESTROY_MID_START: "destroyMidStart",
} as const;
export type Scenario = (typeof Scenario)[keyof typeof Scenario];

export type TruthStatus = "starting" | "active" | "destroyed" | "suspended";

export interface TruthEntry {
  /** Simulated ms. */
  readonly at: number;
  readonly status: TruthStatus;
  /** The port players would connect to; only on `active` entries. */
  readonly exposedPort?: ExposedPort | undefined;
}

/** What really happened to a room, to compare with what a watcher reported. */
export interface RoomTruth {
  readonly roomId: string;
  readonly appId: string;
  readonly status: TruthStatus;
  /** Set only while the room is active. */
  readonly exposedPort: ExposedPort | undefined;
  /** The process of the current allocation; undefined when suspended or destroyed. */
  readonly processId: string | undefined;
  /** Every transition, oldest first; kept after the room is destroyed. */
  readonly history: readonly TruthEntry[];
}

/** Called once per ground-truth transition, after the world's state is committed. */
export type TransitionHook = (
  roomId: string,
  status: TruthStatus,
  exposedPort: ExposedPort | undefined,
  atMs: number,
) => void;

export interface WorldOptions {
  /** Seed of every draw: ids, ports, delays, scenarios. Default 1. */
  seed?: number | undefined;
  /** Host of every exposed port. Default "127.0.0.1". */
  host?: string | undefined;
  /** Transport type of the default port. Default "udp". */
  transportType?: string | undefined;
  /** Rooms one process can host. Default 4. */
  roomsPerProcess?: number | undefined;
  /** Chance that a created room lands warm when a running process has capacity. Default 0.5. */
  warmProbability?: number | undefined;
  /** Chance that a room created over HTTP gets a process that never binds its port. Default 0.02. */
  neverReadyProbability?: number | undefined;
  /** Uniform range of a warm start, simulated ms. Default [50, 400]. */
  warmStartMs?: readonly [number, number] | undefined;
  /** Median of the log-normal cold start (sigma 0.35, clamped to [1500, 30000]), simulated ms. Default 5000. */
  coldStartMedianMs?: number | undefined;
  /** Extra ports per process (0..2), named "debug" then "metrics", transport "tcp". Default 0. */
  additionalPorts?: number | undefined;
  /** Wall-clock instant (ms since 1970) of simulated time 0, for allocation dates. Default 2025-01-01T00:00:00Z. */
  epochMs?: number | undefined;
  /** Hook called on every ground-truth transition. A throwing hook is ignored. Default none. */
  onTransition?: TransitionHook | undefined;
}

export interface CreateRoomInput {
  readonly appId: string;
  /** Default: 13 seeded lowercase alphanumerics, like Hathora's. */
  readonly roomId?: string | undefined;
  /** Default "Seattle". */
  readonly region?: Region | undefined;
  readonly roomConfig?: string | undefined;
  /** Default: drawn from the seeded distribution (warm, cold or never). */
  readonly scenario?: Scenario | undefined;
}

export interface CreatedRoom {
  readonly roomId: string;
  readonly processId: string;
  readonly scenario: Scenario;
}

type ProcessStatus = "starting" | "running" | "dead";

interface ProcessRecord {
  readonly processId: string;
  readonly appId: string;
  readonly region: Region;
  readonly exposedPort: ExposedPort;
  readonly additionalExposedPorts: readonly ExposedPort[];
  /** False for a "never" process: it stays starting until the bind deadline. */
  readonly bindsPort: boolean;
  status: ProcessStatus;
  /** Rooms currently allocated here, in allocation order. */
  readonly roomIds: Set<string>;
  /** Bumped whenever the process gains a room, so a pending idle stop knows it is stale. */
  idleToken: number;
}

interface AllocationRecord {
  readonly roomAllocationId: string;
  readonly processId: string;
  readonly scheduledAtMs: number;
  unscheduledAtMs: number | undefined;
}

interface RoomRecord {
  readonly roomId: string;
  readonly appId: string;
  readonly region: Region;
  readonly roomConfig: string | undefined;
  status: TruthStatus;
  readonly allocations: AllocationRecord[];
  readonly history: TruthEntry[];
}

type WorldEvent =
  | { readonly kind: "processReady"; readonly processId: string }
  | { readonly kind: "roomReady"; readonly roomId: string; readonly roomAllocationId: string }
  | { readonly kind: "bindDeadline"; readonly processId: string }
  | { readonly kind: "crash"; readonly processId: string }
  | { readonly kind: "destroyRoom"; readonly roomId: string }
  | { readonly kind: "idleStop"; readonly processId: string; readonly idleToken: number };

interface ResolvedOptions {
  readonly host: string;
  readonly transportType: string;
  readonly roomsPerProcess: number;
  readonly warmProbability: number;
  readonly neverReadyProbability: number;
  readonly warmStartMs: readonly [number, number];
  readonly coldStartMedianMs: number;
  readonly additionalPorts: number;
  readonly epochMs: number;
  readonly onTransition: TransitionHook | undefined;
}

function isProbability(p: number): boolean {
  return Number.isFinite(p) && p >= 0 && p <= 1;
}

function resolveOptions(options: WorldOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    host: options.host ?? "127.0.0.1",
    transportType: options.transportType ?? "udp",
    roomsPerProcess: options.roomsPerProcess ?? 4,
    warmProbability: options.warmProbability ?? 0.5,
    neverReadyProbability: options.neverReadyProbability ?? 0.02,
    warmStartMs: options.warmStartMs ?? [50, 400],
    coldStartMedianMs: options.coldStartMedianMs ?? 5_000,
    additionalPorts: options.additionalPorts ?? 0,
    epochMs: options.epochMs ?? Date.UTC(2025, 0, 1),
    onTransition: options.onTransition,
  };
  if (resolved.host.length === 0) throw new ConfigError("host must not be empty");
  if (resolved.transportType.length === 0) throw new ConfigError("transportType must not be empty");
  if (!Number.isInteger(resolved.roomsPerProcess) || resolved.roomsPerProcess < 1) {
    throw new ConfigError("roomsPerProcess must be an integer >= 1");
  }
  if (!isProbability(resolved.warmProbability)) throw new ConfigError("warmProbability must be in [0, 1]");
  if (!isProbability(resolved.neverReadyProbability)) {
    throw new ConfigError("neverReadyProbability must be in [0, 1]");
  }
  const [warmMinMs, warmMaxMs] = resolved.warmStartMs;
  if (!(Number.isFinite(warmMinMs) && Number.isFinite(warmMaxMs) && warmMinMs >= 0 && warmMaxMs >= warmMinMs)) {
    throw new ConfigError("warmStartMs must be [min, max] with 0 <= min <= max");
  }
  if (!(Number.isFinite(resolved.coldStartMedianMs) && resolved.coldStartMedianMs > 0)) {
    throw new ConfigError("coldStartMedianMs must be a positive number");
  }
  if (!Number.isInteger(resolved.additionalPorts) || resolved.additionalPorts < 0 || resolved.additionalPorts > 2) {
    throw new ConfigError("additionalPorts must be 0, 1 or 2");
  }
  if (!Number.isFinite(resolved.epochMs)) throw new ConfigError("epochMs must be a finite number");
  return resolved;
}

const ROOM_STATUS_OF: Record<TruthStatus, RoomStatus> = {
  starting: "scheduling",
  active: "active",
  suspended: "suspended",
  destroyed: "destroyed",
};

export class World {
  readonly #options: ResolvedOptions;
  readonly #random: Random;
  readonly #rooms = new Map<string, RoomRecord>();
  readonly #processes = new Map<string, ProcessRecord>();
  readonly #usedPorts = new Set<number>();
  readonly #queue = new EventQueue<WorldEvent>();
  /** Simulated time of the step being processed; never goes back. */
  #pendingTransitions: { roomId: string; entry: TruthEntry }[] = [];

  constructor(options: WorldOptions = {}) {
    this.#options = resolveOptions(options);
    this.#random = createRandom(options.seed ?? 1, "world");
  }

  /** Simulated time the world has been advanced to. */
  get nowMs(): number {
    return this.#queue.clockMs;
  }

  /** When the next scheduled event is due (it may turn out to be stale), or undefined. */
  nextEventAtMs(): number | undefined {
    return this.#queue.peekAtMs();
  }

  /** Runs every event due at or before `nowMs`. */
  advance(nowMs: number): void {
    this.#run(nowMs, () => undefined);
  }

  createRoom(nowMs: number, input: CreateRoomInput): CreatedRoom {
    return this.#run(nowMs, () => {
      if (input.roomId !== undefined) {
        if (!HATHORA_ID_PATTERN.test(input.roomId)) throw new ConfigError(`invalid room id: ${input.roomId}`);
        if (this.#rooms.has(input.roomId)) throw new ConfigError(`room already exists: ${input.roomId}`);
      }
      if (!HATHORA_ID_PATTERN.test(input.appId)) throw new ConfigError(`invalid app id: ${input.appId}`);
      const region = input.region ?? "Seattle";
      const scenario = input.scenario ?? this.#drawScenario(input.appId, region, true);
      if (scenario === Scenario.WARM && this.#findWarmProcess(input.appId, region) === undefined) {
        throw new ConfigError(`no running process of ${input.appId} in ${region} has room for a warm start`);
      }
      const roomId = input.roomId ?? this.#newRoomId();
      const room: RoomRecord = {
        roomId,
        appId: input.appId,
        region,
        roomConfig: input.roomConfig,
        status: "starting",
        allocations: [],
        history: [],
      };
      this.#rooms.set(roomId, room);
      this.#record(room, "starting", undefined);
      const processId = this.#place(room, scenario);
      return { roomId, processId, scenario };
    });
  }

  /** Destroys a room now. False when it is unknown or already destroyed. */
  destroyRoom(nowMs: number, roomId: string): boolean {
    return this.#run(nowMs, () => this.#destroy(roomId));
  }

  /** Suspends a starting or active room (idempotent). False when it is unknown or destroyed. */
  suspendRoom(nowMs: number, roomId: string): boolean {
    return this.#run(nowMs, () => {
      const room = this.#rooms.get(roomId);
      if (room === undefined || room.status === "destroyed") return false;
      if (room.status === "suspended") return true;
      this.#unallocate(room);
      this.#record(room, "suspended", undefined);
      return true;
    });
  }

  /**
   * Reschedules a suspended room (warm when drawn and possible, else cold). A starting or active room
   * is left as it is. Undefined when the room is unknown or destroyed.
   */
  resumeRoom(nowMs: number, roomId: string): { processId: string } | undefined {
    return this.#run(nowMs, () => {
      const room = this.#rooms.get(roomId);
      if (room === undefined || room.status === "destroyed") return undefined;
      if (room.status === "suspended") {
        const scenario = this.#drawScenario(room.appId, room.region, false);
        this.#record(room, "starting", undefined);
        this.#place(room, scenario);
      }
      return { processId: this.#currentAllocation(room)!.processId };
    });
  }

  /** Kills a process now; its rooms move to one new cold process. Returns the moved room ids. */
  crashProcess(nowMs: number, processId: string): string[] {
    return this.#run(nowMs, () => this.#crash(processId));
  }

  /** Crashes `processId` at simulated `atMs` (now, if that is already past). */
  scheduleCrash(nowMs: number, processId: string, atMs: number): void {
    this.#run(nowMs, () => this.#queue.push(Math.max(atMs, this.#queue.clockMs), { kind: "crash", processId }));
  }

  /** Destroys `roomId` at simulated `atMs` (now, if that is already past). */
  scheduleDestroy(nowMs: number, roomId: string, atMs: number): void {
    this.#run(nowMs, () => this.#queue.push(Math.max(atMs, this.#queue.clockMs), { kind: "destroyRoom", roomId }));
  }

  hasRoom(roomId: string): boolean {
    return this.#rooms.has(roomId);
  }

  /** Every room id ever created, destroyed ones included, in creation order. */
  roomIds(): string[] {
    return [...this.#rooms.keys()];
  }

  processOf(nowMs: number, roomId: string): string | undefined {
    return this.#run(nowMs, () => {
      const room = this.#rooms.get(roomId);
      return room === undefined ? undefined : this.#currentAllocation(room)?.processId;
    });
  }

  truth(nowMs: number, roomId: string): RoomTruth | undefined {
    return this.#run(nowMs, () => {
      const room = this.#rooms.get(roomId);
      if (room === undefined) return undefined;
      return Object.freeze({
        roomId: room.roomId,
        appId: room.appId,
        status: room.status,
        exposedPort: this.#activePort(room),
        processId: this.#currentAllocation(room)?.processId,
        history: Object.freeze([...room.history]),
      });
    });
  }

  /** GET connection info (v2). Undefined when the room is unknown, of another app, or destroyed. */
  connectionInfo(nowMs: number, appId: string, roomId: string): ConnectionInfoV2 | undefined {
    return this.#run(nowMs, () => {
      const room = this.#visibleRoom(appId, roomId);
      return room === undefined ? undefined : this.#connectionInfoOf(room);
    });
  }

  /** GET connection info (v1). Undefined when the room is unknown, of another app, or destroyed. */
  connectionInfoV1(nowMs: number, appId: string, roomId: string): ConnectionInfoV1 | undefined {
    return this.#run(nowMs, () => {
      const room = this.#visibleRoom(appId, roomId);
      if (room === undefined) return undefined;
      const port = this.#activePort(room);
      if (port === undefined) return { status: room.status, roomId: room.roomId };
      return { status: "active", transportType: port.transportType, port: port.port, host: port.host, roomId };
    });
  }

  /** Connection info plus the process, as create and resume answer. */
  connectionData(nowMs: number, appId: string, roomId: string): ResumeRoomResponse | undefined {
    return this.#run(nowMs, () => {
      const room = this.#visibleRoom(appId, roomId);
      if (room === undefined) return undefined;
      const processId = this.#currentAllocation(room)?.processId;
      return { ...this.#connectionInfoOf(room), ...(processId === undefined ? {} : { processId }) };
    });
  }

  /** GET room info. Undefined when unknown, of another app, or destroyed (its metadata is deleted). */
  roomInfo(nowMs: number, appId: string, roomId: string): Room | undefined {
    return this.#run(nowMs, () => {
      const room = this.#visibleRoom(appId, roomId);
      if (room === undefined) return undefined;
      return { ...this.#roomWithoutAllocations(room), allocations: room.allocations.map((a) => this.#allocationOf(a)) };
    });
  }

  /**
   * Rooms of a process: `active` lists the rooms allocated there now; `inactive` the rooms whose
   * allocation there has ended (destroyed, suspended or moved). Undefined for an unknown process.
   */
  listRooms(
    nowMs: number,
    appId: string,
    processId: string,
    which: "active" | "inactive",
  ): RoomWithoutAllocations[] | undefined {
    return this.#run(nowMs, () => {
      const process = this.#processes.get(processId);
      if (process === undefined || process.appId !== appId) return undefined;
      const rooms: RoomWithoutAllocations[] = [];
      for (const room of this.#rooms.values()) {
        if (room.appId !== appId) continue;
        const current = this.#currentAllocation(room);
        const isActiveHere = current?.processId === processId;
        const wasHere = room.allocations.some((a) => a.processId === processId && a.unscheduledAtMs !== undefined);
        if (which === "active" ? isActiveHere : wasHere && !isActiveHere) {
          rooms.push(this.#roomWithoutAllocations(room));
        }
      }
      return rooms;
    });
  }

  // ---- internals ----

  #run<T>(nowMs: number, step: () => T): T {
    return this.#queue.run(nowMs, (event) => this.#handle(event), step, () => this.#flushTransitions());
  }

  #handle(event: WorldEvent): void {
    switch (event.kind) {
      case "processReady": {
        const process = this.#processes.get(event.processId);
        if (process?.status !== "starting") return;
        process.status = "running";
        for (const roomId of process.roomIds) {
          const room = this.#rooms.get(roomId);
          if (room?.status === "starting") this.#record(room, "active", process.exposedPort);
        }
        if (process.roomIds.size === 0) this.#scheduleIdleStop(process);
        return;
      }
      case "roomReady": {
        const room = this.#rooms.get(event.roomId);
        if (room?.status !== "starting") return;
        const current = this.#currentAllocation(room);
        if (current?.roomAllocationId !== event.roomAllocationId) return;
        const process = this.#processes.get(current.processId);
        if (process?.status === "running") this.#record(room, "active", process.exposedPort);
        return;
      }
      case "bindDeadline": {
        const process = this.#processes.get(event.processId);
        if (process?.status !== "starting") return;
        process.status = "dead";
        for (const roomId of [...process.roomIds]) this.#destroy(roomId);
        return;
      }
      case "crash":
        this.#crash(event.processId);
        return;
      case "destroyRoom":
        this.#destroy(event.roomId);
        return;
      case "idleStop": {
        const process = this.#processes.get(event.processId);
        if (process?.status === "running" && process.roomIds.size === 0 && process.idleToken === event.idleToken) {
          process.status = "dead";
        }
        return;
      }
      default: {
        const unreachable: never = event;
        throw new Error(`unknown world event ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #drawScenario(appId: string, region: Region, mayNeverBind: boolean): Scenario {
    const canWarm = this.#findWarmProcess(appId, region) !== undefined;
    if (canWarm && this.#random.chance(this.#options.warmProbability)) return Scenario.WARM;
    if (mayNeverBind && this.#random.chance(this.#options.neverReadyProbability)) return Scenario.NEVER;
    return Scenario.COLD;
  }

  #findWarmProcess(appId: string, region: Region): ProcessRecord | undefined {
    for (const process of this.#processes.values()) {
      if (
        process.status === "running" &&
        process.appId === appId &&
        process.region === region &&
        process.roomIds.size < this.#options.roomsPerProcess
      ) {
        return process;
      }
    }
    return undefined;
  }

  /** Allocates a starting room according to `scenario` and schedules its activation; returns the process. */
  #place(room: RoomRecord, scenario: Scenario): string {
    if (scenario === Scenario.WARM) {
      const process = this.#findWarmProcess(room.appId, room.region);
      if (process === undefined) throw new ConfigError("no running process has capacity for a warm start");
      const allocation = this.#allocate(room, process);
      const [minMs, maxMs] = this.#options.warmStartMs;
      const delayMs = maxMs > minMs ? this.#random.int(minMs, maxMs + 1) : minMs;
      this.#queue.push(this.#queue.clockMs + delayMs, {
        kind: "roomReady",
        roomId: room.roomId,
        roomAllocationId: allocation.roomAllocationId,
      });
      return process.processId;
    }
    const process = this.#startProcess(room.appId, room.region, scenario !== Scenario.NEVER);
    this.#allocate(room, process.record);
    if (scenario === Scenario.DESTROY_MID_START) {
      // Between 20 % and 80 % of the way to active, so it is always seen starting and never active.
      const destroyAfterMs = Math.floor(process.coldStartMs * this.#random.uniform(0.2, 0.8));
      this.#queue.push(this.#queue.clockMs + destroyAfterMs, { kind: "destroyRoom", roomId: room.roomId });
    }
    return process.record.processId;
  }

  #startProcess(appId: string, region: Region, bindsPort: boolean): { record: ProcessRecord; coldStartMs: number } {
    const { host, transportType } = this.#options;
    const record: ProcessRecord = {
      processId: this.#newUuid(),
      appId,
      region,
      exposedPort: { transportType, port: this.#newPort(), host, name: "default" },
      additionalExposedPorts: ADDITIONAL_PORT_NAMES.slice(0, this.#options.additionalPorts).map((name) => ({
        transportType: "tcp",
        port: this.#newPort(),
        host,
        name,
      })),
      bindsPort,
      status: "starting",
      roomIds: new Set(),
      idleToken: 0,
    };
    this.#processes.set(record.processId, record);
    const coldStartMs = Math.round(
      Math.min(
        COLD_START_MAX_MS,
        Math.max(COLD_START_MIN_MS, this.#random.lognormal(this.#options.coldStartMedianMs, COLD_START_SIGMA)),
      ),
    );
    if (bindsPort) this.#queue.push(this.#queue.clockMs + coldStartMs, { kind: "processReady", processId: record.processId });
    this.#queue.push(this.#queue.clockMs + BIND_DEADLINE_MS, { kind: "bindDeadline", processId: record.processId });
    return { record, coldStartMs };
  }

  #crash(processId: string): string[] {
    const process = this.#processes.get(processId);
    if (process === undefined || process.status === "dead") return [];
    process.status = "dead";
    const moved = [...process.roomIds];
    if (moved.length === 0) return [];
    const replacement = this.#startProcess(process.appId, process.region, true).record;
    for (const roomId of moved) {
      const room = this.#rooms.get(roomId)!;
      this.#unallocate(room);
      this.#allocate(room, replacement);
      if (room.status !== "starting") this.#record(room, "starting", undefined);
    }
    return moved;
  }

  #destroy(roomId: string): boolean {
    const room = this.#rooms.get(roomId);
    if (room === undefined || room.status === "destroyed") return false;
    this.#unallocate(room);
    this.#record(room, "destroyed", undefined);
    return true;
  }

  #allocate(room: RoomRecord, process: ProcessRecord): AllocationRecord {
    const allocation: AllocationRecord = {
      roomAllocationId: this.#newUuid(),
      processId: process.processId,
      scheduledAtMs: this.#queue.clockMs,
      unscheduledAtMs: undefined,
    };
    room.allocations.push(allocation);
    process.roomIds.add(room.roomId);
    process.idleToken++;
    return allocation;
  }

  #unallocate(room: RoomRecord): void {
    const current = this.#currentAllocation(room);
    if (current === undefined) return;
    current.unscheduledAtMs = this.#queue.clockMs;
    const process = this.#processes.get(current.processId);
    if (process === undefined) return;
    process.roomIds.delete(room.roomId);
    if (process.status === "running" && process.roomIds.size === 0) this.#scheduleIdleStop(process);
  }

  #scheduleIdleStop(process: ProcessRecord): void {
    process.idleToken++;
    this.#queue.push(this.#queue.clockMs + IDLE_PROCESS_STOP_MS, {
      kind: "idleStop",
      processId: process.processId,
      idleToken: process.idleToken,
    });
  }

  #record(room: RoomRecord, status: TruthStatus, exposedPort: ExposedPort | undefined): void {
    room.status = status;
    const entry: TruthEntry = Object.freeze(
      exposedPort === undefined ? { at: this.#queue.clockMs, status } : { at: this.#queue.clockMs, status, exposedPort },
    );
    room.history.push(entry);
    this.#pendingTransitions.push({ roomId: room.roomId, entry });
  }

  #flushTransitions(): void {
    const hook = this.#options.onTransition;
    const pending = this.#pendingTransitions;
    this.#pendingTransitions = [];
    if (hook === undefined) return;
    for (const { roomId, entry } of pending) {
      try {
        hook(roomId, entry.status, entry.exposedPort, entry.at);
      } catch {
        // A hook is an observer: its failure must not corrupt the world or fail the request that ran it.
      }
    }
  }

  #currentAllocation(room: RoomRecord): AllocationRecord | undefined {
    const last = room.allocations.at(-1);
    return last?.unscheduledAtMs === undefined ? last : undefined;
  }

  #activePort(room: RoomRecord): ExposedPort | undefined {
    if (room.status !== "active") return undefined;
    const current = this.#currentAllocation(room);
    return current === undefined ? undefined : this.#processes.get(current.processId)?.exposedPort;
  }

  #visibleRoom(appId: string, roomId: string): RoomRecord | undefined {
    const room = this.#rooms.get(roomId);
    return room === undefined || room.appId !== appId || room.status === "destroyed" ? undefined : room;
  }

  #connectionInfoOf(room: RoomRecord): ConnectionInfoV2 {
    const port = this.#activePort(room);
    if (port === undefined) return { additionalExposedPorts: [], status: room.status, roomId: room.roomId };
    const process = this.#processes.get(this.#currentAllocation(room)!.processId)!;
    return {
      additionalExposedPorts: process.additionalExposedPorts.map((p) => ({ ...p })),
      exposedPort: { ...port },
      status: "active",
      roomId: room.roomId,
    };
  }

  #roomWithoutAllocations(room: RoomRecord): RoomWithoutAllocations {
    const current = this.#currentAllocation(room);
    return {
      currentAllocation: current === undefined ? null : this.#allocationOf(current),
      status: ROOM_STATUS_OF[room.status],
      roomConfig: room.roomConfig ?? null,
      roomId: room.roomId,
      appId: room.appId,
    };
  }

  #allocationOf(allocation: AllocationRecord): RoomAllocation {
    return {
      unscheduledAt: allocation.unscheduledAtMs === undefined ? null : this.#iso(allocation.unscheduledAtMs),
      scheduledAt: this.#iso(allocation.scheduledAtMs),
      processId: allocation.processId,
      roomAllocationId: allocation.roomAllocationId,
    };
  }

  #iso(simulatedMs: number): string {
    return new Date(Math.floor(this.#options.epochMs + simulatedMs)).toISOString();
  }

  #newRoomId(): string {
    for (;;) {
      let id = "";
      for (let i = 0; i < ROOM_ID_LENGTH; i++) id += this.#random.pick(ROOM_ID_ALPHABET);
      if (!this.#rooms.has(id)) return id;
    }
  }

  /** A UUID v4-shaped id from the seeded stream, like Hathora's process and allocation ids. */
  #newUuid(): string {
    let hex = "";
    for (let i = 0; i < 32; i++) hex += this.#random.int(0, 16).toString(16);
    const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  #newPort(): number {
    if (this.#usedPorts.size >= PORT_MAX - PORT_MIN) throw new ConfigError("the simulator ran out of ports");
    for (;;) {
      const port = this.#random.int(PORT_MIN, PORT_MAX);
      if (!this.#usedPorts.has(port)) {
        this.#usedPorts.add(port);
        return port;
      }
    }
  }
}
