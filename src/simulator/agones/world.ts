/**
 * The simulated Agones cluster: GameServers moving through their lifecycle, written to the object store
 * (so every change is a watch event with a new resourceVersion), with ground truth kept per server.
 * No timers and no I/O: every method takes the simulated time `nowMs` and first runs each lifecycle
 * step due by then, in time order, so results depend only on the seed, the calls and their times.
 *
 *   create ─▶ PortAllocation ─▶ Creating ─▶ Starting ─▶ Scheduled ─▶ RequestReady ─▶ Ready ─▶ Allocated
 *                                  │                                                  │  │        │
 *                                  └─▶ Error ("error")              ("unhealthy") ◀───┘  │        ├─▶ loaded (SDK label)
 *                                                                   Unhealthy ─▶ deleted │        └─▶ Shutdown ─▶ deleted
 *                                                                          ("shutdown") ─┴─▶ Shutdown ─▶ deleted
 */
import { ConfigError } from "../../core/errors.js";
import { EventQueue } from "../event-queue.js";
import { createRandom, type Random } from "../random.js";
import type { AllocationRequest } from "./allocation.js";
import { AllocationState } from "./allocation.js";
import {
  allocatePorts,
  FINALIZER,
  GameServerState,
  newGameServer,
  SDK_PREFIX,
  statusPorts,
  type GameServer,
  type GameServerPort,
  type GameServerRequest,
  type NodeAddress,
} from "./game-server.js";
import { ObjectStore } from "./object-store.js";

export const AgonesScenario = {
  /** Reaches Ready and stays there until allocated, shut down or deleted. */
  READY: "ready",
  /** Reaches Ready, then fails its health checks: Unhealthy, then deleted. */
  UNHEALTHY: "unhealthy",
  /** Its pod cannot be created: Creating, then Error (kept, as Agones keeps errored servers). */
  ERROR: "error",
  /** Reaches Ready, then the game calls SDK.Shutdown() on its own: Shutdown, then deleted. */
  SHUTDOWN: "shutdown",
} as const;
export type AgonesScenario = (typeof AgonesScenario)[keyof typeof AgonesScenario];
const SCENARIOS: readonly string[] = Object.values(AgonesScenario);

/** Annotation a created GameServer may carry to choose its scenario (simulator only). */
export const SCENARIO_ANNOTATION = "simulator.room-watcher.dev/scenario";

/** Ports are drawn per node from [HOST_PORT_MIN, HOST_PORT_MAX), Agones' default range. */
export const HOST_PORT_MIN = 7_000;
export const HOST_PORT_MAX = 8_000;
/** Simulated ms before a server left in PortAllocation (every node's ports taken) is tried again. */
const PORT_RETRY_MS = 1_000;
const START_SIGMA = 0.35;
const GENERATE_NAME_ALPHABET = [..."bcdfghjklmnpqrstvwxz2456789"];

export interface TruthEntry {
  /** Simulated ms. */
  readonly at: number;
  /** The state, or "Deleted" once the object is gone. */
  readonly state: GameServerState | "Deleted";
  readonly address: string;
  readonly ports: readonly { readonly name: string; readonly port: number }[];
  /** Labels the SDK set (`agones.dev/sdk-...`). */
  readonly sdkLabels: Readonly<Record<string, string>>;
}

/** What really happened to a GameServer, to compare with what a watcher reported. */
export interface GameServerTruth {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly scenario: AgonesScenario;
  readonly state: GameServerState | "Deleted";
  /** Every state or SDK-label change, oldest first; kept after deletion. */
  readonly history: readonly TruthEntry[];
}

/** Called once per truth entry, after the store is committed. A throwing hook is ignored. */
export type AgonesTransitionHook = (namespace: string, name: string, entry: TruthEntry) => void;

export interface AgonesWorldOptions {
  /** Seed of every draw: names, ports, delays, scenarios. Default 1. */
  seed?: number | undefined;
  /** The nodes' InternalIP, which becomes `status.address`. Default "127.0.0.1". */
  host?: string | undefined;
  /** Nodes the servers are spread over (sim-node-1...). Default 3. */
  nodes?: number | undefined;
  /** Changes kept for watches to resume from; older versions answer 410. Default 1000. */
  historySize?: number | undefined;
  /** Median of Starting -> Scheduled (log-normal), simulated ms. Default 1500. */
  scheduleMedianMs?: number | undefined;
  /** Median of Scheduled -> RequestReady, the game's boot (log-normal), simulated ms. Default 3000. */
  bootMedianMs?: number | undefined;
  /** Allocated -> the game reports the match loaded (sets its SDK label), uniform, simulated ms. Default [200, 2000]. */
  loadMs?: readonly [number, number] | undefined;
  /** Allocated -> the game shuts down after its session, uniform, simulated ms. Default [60000, 300000]. */
  sessionMs?: readonly [number, number] | undefined;
  /** Key (after `agones.dev/sdk-`) of the label the game sets to "true" once the match is loaded. Default "loaded". */
  loadedLabel?: string | undefined;
  /** Chance a GameServer created over the API turns Unhealthy after Ready. Default 0.02. */
  unhealthyProbability?: number | undefined;
  /** Chance a GameServer created over the API ends in Error. Default 0.02. */
  errorProbability?: number | undefined;
  /** Wall-clock instant (ms since 1970) of simulated time 0, for timestamps. Default 2025-01-01T00:00:00Z. */
  epochMs?: number | undefined;
  /** Hook called on every truth entry. Default none. */
  onTransition?: AgonesTransitionHook | undefined;
}

interface ResolvedOptions {
  readonly host: string;
  readonly nodes: number;
  readonly historySize: number;
  readonly scheduleMedianMs: number;
  readonly bootMedianMs: number;
  readonly loadMs: readonly [number, number];
  readonly sessionMs: readonly [number, number];
  readonly loadedLabel: string;
  readonly unhealthyProbability: number;
  readonly errorProbability: number;
  readonly epochMs: number;
}

function checkRange(name: string, range: readonly [number, number]): void {
  const [min, max] = range;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min)) {
    throw new ConfigError(`${name} must be [min, max] with 0 <= min <= max`);
  }
}

function resolveOptions(options: AgonesWorldOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    host: options.host ?? "127.0.0.1",
    nodes: options.nodes ?? 3,
    historySize: options.historySize ?? 1_000,
    scheduleMedianMs: options.scheduleMedianMs ?? 1_500,
    bootMedianMs: options.bootMedianMs ?? 3_000,
    loadMs: options.loadMs ?? [200, 2_000],
    sessionMs: options.sessionMs ?? [60_000, 300_000],
    loadedLabel: options.loadedLabel ?? "loaded",
    unhealthyProbability: options.unhealthyProbability ?? 0.02,
    errorProbability: options.errorProbability ?? 0.02,
    epochMs: options.epochMs ?? Date.UTC(2025, 0, 1),
  };
  if (resolved.host.length === 0) throw new ConfigError("host must not be empty");
  if (!Number.isInteger(resolved.nodes) || resolved.nodes < 1 || resolved.nodes > 250) throw new ConfigError("nodes must be an integer in [1, 250]");
  if (!Number.isInteger(resolved.historySize) || resolved.historySize < 1) throw new ConfigError("historySize must be an integer >= 1");
  for (const [name, value] of [["scheduleMedianMs", resolved.scheduleMedianMs], ["bootMedianMs", resolved.bootMedianMs]] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new ConfigError(`${name} must be a positive number`);
  }
  checkRange("loadMs", resolved.loadMs);
  checkRange("sessionMs", resolved.sessionMs);
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(resolved.loadedLabel)) throw new ConfigError("loadedLabel must be a label name");
  for (const [name, p] of [["unhealthyProbability", resolved.unhealthyProbability], ["errorProbability", resolved.errorProbability]] as const) {
    if (!(Number.isFinite(p) && p >= 0 && p <= 1)) throw new ConfigError(`${name} must be in [0, 1]`);
  }
  if (resolved.unhealthyProbability + resolved.errorProbability > 1) throw new ConfigError("unhealthyProbability + errorProbability must be at most 1");
  if (!Number.isFinite(resolved.epochMs)) throw new ConfigError("epochMs must be a finite number");
  return resolved;
}

type WorldEvent =
  | { readonly kind: "step"; readonly namespace: string; readonly name: string; readonly uid: string; readonly to: GameServerState }
  | { readonly kind: "loaded"; readonly namespace: string; readonly name: string; readonly uid: string }
  | { readonly kind: "delete"; readonly namespace: string; readonly name: string; readonly uid: string }
  | { readonly kind: "finalize"; readonly namespace: string; readonly name: string; readonly uid: string };

interface ServerRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly scenario: AgonesScenario;
  readonly history: TruthEntry[];
  node: number | undefined;
  deleted: boolean;
}

export type CreateResult =
  | { readonly kind: "created"; readonly gameServer: GameServer }
  | { readonly kind: "exists"; readonly name: string };

export type AllocateResult =
  | { readonly state: typeof AllocationState.ALLOCATED; readonly gameServer: GameServer }
  | { readonly state: typeof AllocationState.UNALLOCATED };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function sdkLabelsOf(gs: GameServer): Record<string, string> {
  return Object.fromEntries(Object.entries(gs.metadata.labels).filter(([key]) => key.startsWith(SDK_PREFIX)));
}

export class AgonesWorld {
  readonly store: ObjectStore<GameServer>;
  readonly #options: ResolvedOptions;
  readonly #random: Random;
  readonly #queue = new EventQueue<WorldEvent>();
  readonly #records = new Map<string, ServerRecord>();
  readonly #usedPorts: Set<number>[];
  readonly #onTransition: AgonesTransitionHook | undefined;
  #podIps = 0;
  #pending: { namespace: string; name: string; entry: TruthEntry }[] = [];

  constructor(options: AgonesWorldOptions = {}) {
    this.#options = resolveOptions(options);
    this.#random = createRandom(options.seed ?? 1, "agones-world");
    this.#onTransition = options.onTransition;
    this.store = new ObjectStore<GameServer>(this.#options.historySize);
    this.#usedPorts = Array.from({ length: this.#options.nodes }, () => new Set<number>());
  }

  get nowMs(): number {
    return this.#queue.clockMs;
  }

  /** When the next scheduled step is due (it may turn out to be stale), or undefined. */
  nextEventAtMs(): number | undefined {
    return this.#queue.peekAtMs();
  }

  /** Runs every step due at or before `nowMs`. */
  advance(nowMs: number): void {
    this.#run(nowMs, () => undefined);
  }

  /** An RFC 3339 timestamp of simulated `atMs` (now by default). */
  timestamp(atMs = this.#queue.clockMs): string {
    return new Date(Math.floor(this.#options.epochMs + atMs)).toISOString();
  }

  /**
   * Creates a GameServer (the caller validated `request`). The scenario comes from `scenario`, else the
   * request's scenario annotation, else a seeded draw.
   */
  createGameServer(nowMs: number, namespace: string, request: GameServerRequest, scenario?: AgonesScenario): CreateResult {
    return this.#run(nowMs, (): CreateResult => {
      const name = request.name ?? this.#generateName(namespace, request.generateName ?? "gameserver-");
      if (this.store.get(namespace, name) !== undefined) return { kind: "exists", name };
      const annotated = request.annotations[SCENARIO_ANNOTATION];
      const chosen =
        scenario ?? (annotated !== undefined && SCENARIOS.includes(annotated) ? (annotated as AgonesScenario) : this.#drawScenario());
      const uid = this.#newUid();
      const gameServer = this.store.add((rv) =>
        newGameServer({
          namespace,
          name,
          generateName: request.name === undefined ? request.generateName : undefined,
          uid,
          rv,
          creationTimestamp: this.timestamp(),
          request,
        }),
      );
      const record: ServerRecord = { namespace, name, uid, scenario: chosen, history: [], node: undefined, deleted: false };
      this.#records.set(keyOf(namespace, name), record);
      this.#record(record, gameServer);
      const first = gameServer.status.state === GameServerState.PORT_ALLOCATION ? GameServerState.CREATING : GameServerState.STARTING;
      const delayMs = first === GameServerState.CREATING ? this.#random.int(10, 51) : this.#random.int(50, 201);
      this.#schedule(delayMs, { kind: "step", namespace, name, uid, to: first });
      return { kind: "created", gameServer };
    });
  }

  /**
   * Requests deletion, as `DELETE` does: the object gets a deletionTimestamp at once (a MODIFIED event)
   * and is gone (DELETED) once the controller drops its finalizer. Undefined when it does not exist.
   */
  deleteGameServer(nowMs: number, namespace: string, name: string): GameServer | undefined {
    return this.#run(nowMs, () => this.#markDeleted(namespace, name));
  }

  /** Allocates the first Ready (or Allocated, if a selector asks) server matching a selector, in order. */
  allocate(nowMs: number, namespace: string, request: AllocationRequest): AllocateResult {
    return this.#run(nowMs, (): AllocateResult => {
      for (const selector of request.selectors) {
        const candidates = this.store
          .list({ namespace, labels: selector.labels })
          .items.filter((gs) => gs.status.state === selector.gameServerState && gs.metadata.deletionTimestamp === undefined)
          .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
        if (candidates.length === 0) continue;
        // Packed fills servers in a stable order; Distributed spreads them at random.
        const chosen = request.scheduling === "Distributed" ? this.#random.pick(candidates) : candidates[0]!;
        const wasAllocated = chosen.status.state === GameServerState.ALLOCATED;
        const updated = this.#write(chosen.metadata.namespace, chosen.metadata.name, (gs) => {
          gs.metadata = {
            ...gs.metadata,
            labels: { ...gs.metadata.labels, ...request.labels },
            annotations: { ...gs.metadata.annotations, ...request.annotations, "agones.dev/last-allocated": this.timestamp() },
          };
          gs.status = { ...gs.status, state: GameServerState.ALLOCATED };
        })!;
        if (!wasAllocated) {
          const record = this.#records.get(keyOf(namespace, updated.metadata.name))!;
          const [loadMin, loadMax] = this.#options.loadMs;
          const [sessionMin, sessionMax] = this.#options.sessionMs;
          const loadMs = Math.round(this.#random.uniform(loadMin, loadMax));
          const sessionMs = Math.max(loadMs + 1, Math.round(this.#random.uniform(sessionMin, sessionMax)));
          this.#schedule(loadMs, { kind: "loaded", namespace, name: record.name, uid: record.uid });
          this.#schedule(sessionMs, { kind: "step", namespace, name: record.name, uid: record.uid, to: GameServerState.SHUTDOWN });
        }
        return { state: AllocationState.ALLOCATED, gameServer: updated };
      }
      return { state: AllocationState.UNALLOCATED };
    });
  }

  /** The game calls SDK.Shutdown(): Shutdown now, deleted shortly after. False when absent or already ending. */
  shutdown(nowMs: number, namespace: string, name: string): boolean {
    return this.#run(nowMs, () => this.#terminate(namespace, name, GameServerState.SHUTDOWN));
  }

  /** The server misses its health checks: Unhealthy now, deleted shortly after. */
  markUnhealthy(nowMs: number, namespace: string, name: string): boolean {
    return this.#run(nowMs, () => this.#terminate(namespace, name, GameServerState.UNHEALTHY));
  }

  /** The game calls SDK.SetLabel(key, value): label `agones.dev/sdk-<key>`. False when absent. */
  setSdkLabel(nowMs: number, namespace: string, name: string, key: string, value: string): boolean {
    return this.#run(nowMs, () => this.#setSdk(namespace, name, "labels", key, value));
  }

  /** The game calls SDK.SetAnnotation(key, value): annotation `agones.dev/sdk-<key>`. False when absent. */
  setSdkAnnotation(nowMs: number, namespace: string, name: string, key: string, value: string): boolean {
    return this.#run(nowMs, () => this.#setSdk(namespace, name, "annotations", key, value));
  }

  truth(nowMs: number, namespace: string, name: string): GameServerTruth | undefined {
    return this.#run(nowMs, () => {
      const record = this.#records.get(keyOf(namespace, name));
      if (record === undefined) return undefined;
      return Object.freeze({
        namespace,
        name,
        uid: record.uid,
        scenario: record.scenario,
        state: record.history.at(-1)!.state,
        history: Object.freeze([...record.history]),
      });
    });
  }

  /** Every GameServer ever created, as `namespace/name`, in creation order (a name reused after deletion appears once). */
  gameServers(): { namespace: string; name: string }[] {
    return [...this.#records.values()].map(({ namespace, name }) => ({ namespace, name }));
  }

  // ---- internals ----

  #schedule(delayMs: number, event: WorldEvent): void {
    this.#queue.push(this.#queue.clockMs + delayMs, event);
  }

  #current(event: { namespace: string; name: string; uid: string }): GameServer | undefined {
    const gs = this.store.get(event.namespace, event.name);
    return gs?.metadata.uid === event.uid ? gs : undefined;
  }

  #run<T>(nowMs: number, step: () => T): T {
    return this.#queue.run(nowMs, (event) => this.#handle(event), step, () => this.#flush());
  }

  #handle(event: WorldEvent): void {
    const gs = this.#current(event);
    if (gs === undefined) return;
    const record = this.#records.get(keyOf(event.namespace, event.name))!;
    switch (event.kind) {
      case "step":
        this.#step(record, gs, event.to);
        return;
      case "loaded":
        if (gs.status.state === GameServerState.ALLOCATED) this.#setSdk(record.namespace, record.name, "labels", this.#options.loadedLabel, "true");
        return;
      case "delete":
        this.#markDeleted(record.namespace, record.name);
        return;
      case "finalize":
        this.store.remove(record.namespace, record.name, (current, rv) => ({
          ...current,
          metadata: { ...current.metadata, resourceVersion: rv, finalizers: current.metadata.finalizers.filter((f) => f !== FINALIZER) },
        }));
        record.deleted = true;
        this.#recordDeleted(record, gs);
        return;
      default: {
        const unreachable: never = event;
        throw new Error(`unknown world event ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** One controller step along the scripted lifecycle, scheduling the next. */
  #step(record: ServerRecord, gs: GameServer, to: GameServerState): void {
    const { namespace, name, uid, scenario } = record;
    const from = gs.status.state;
    if (gs.metadata.deletionTimestamp !== undefined) return;
    const next = (delayMs: number, state: GameServerState): void => this.#schedule(delayMs, { kind: "step", namespace, name, uid, to: state });
    switch (to) {
      case GameServerState.CREATING:
        if (from !== GameServerState.PORT_ALLOCATION) return;
        {
          const ports = this.#allocatePorts(record, gs.spec.ports);
          if (ports === undefined) {
            next(PORT_RETRY_MS, GameServerState.CREATING);
            return;
          }
          this.#write(namespace, name, (m) => {
            m.spec = { ...m.spec, ports };
            m.status = { ...m.status, state: to };
          });
        }
        next(this.#random.int(50, 201), scenario === AgonesScenario.ERROR ? GameServerState.ERROR : GameServerState.STARTING);
        return;
      case GameServerState.ERROR:
        if (from !== GameServerState.CREATING) return;
        this.#write(namespace, name, (m) => {
          m.metadata = { ...m.metadata, annotations: { ...m.metadata.annotations, "agones.dev/errored-at": this.timestamp() } };
          m.status = { ...m.status, state: to };
        });
        return;
      case GameServerState.STARTING:
        if (from !== GameServerState.CREATING) return;
        this.#write(namespace, name, (m) => {
          // A server with only Static ports has them split (TCPUDP) when it leaves Creating.
          // Static ports take no host port, so a node always has room for them.
          if (record.node === undefined) m.spec = { ...m.spec, ports: this.#allocatePorts(record, m.spec.ports) ?? m.spec.ports };
          m.status = { ...m.status, state: to };
        });
        next(this.#startDelay(this.#options.scheduleMedianMs), GameServerState.SCHEDULED);
        return;
      case GameServerState.SCHEDULED: {
        if (from !== GameServerState.STARTING) return;
        const node = record.node ?? 0;
        const nodeName = `sim-node-${node + 1}`;
        this.#podIps++;
        const addresses: NodeAddress[] = [
          { type: "InternalIP", address: this.#options.host },
          { type: "Hostname", address: nodeName },
          { type: "PodIP", address: `10.244.${node}.${(this.#podIps % 250) + 2}` },
        ];
        this.#write(namespace, name, (m) => {
          m.status = { ...m.status, state: to, address: this.#options.host, addresses, nodeName, ports: statusPorts(m.spec.ports) };
        });
        next(this.#startDelay(this.#options.bootMedianMs), GameServerState.REQUEST_READY);
        return;
      }
      case GameServerState.REQUEST_READY:
        if (from !== GameServerState.SCHEDULED) return;
        this.#write(namespace, name, (m) => {
          m.metadata = {
            ...m.metadata,
            annotations: { ...m.metadata.annotations, "agones.dev/sdk-version": "1.55.0", "agones.dev/ready-container-id": `containerd://${uid}` },
          };
          m.status = { ...m.status, state: to };
        });
        next(this.#random.int(20, 101), GameServerState.READY);
        return;
      case GameServerState.READY:
        if (from !== GameServerState.REQUEST_READY) return;
        this.#write(namespace, name, (m) => {
          m.status = { ...m.status, state: to };
        });
        if (scenario === AgonesScenario.UNHEALTHY) next(this.#random.int(2_000, 10_001), GameServerState.UNHEALTHY);
        if (scenario === AgonesScenario.SHUTDOWN) next(this.#random.int(5_000, 30_001), GameServerState.SHUTDOWN);
        return;
      case GameServerState.UNHEALTHY:
      case GameServerState.SHUTDOWN:
        this.#terminate(namespace, name, to);
        return;
      default:
        return;
    }
  }

  #terminate(namespace: string, name: string, to: typeof GameServerState.SHUTDOWN | typeof GameServerState.UNHEALTHY): boolean {
    const gs = this.store.get(namespace, name);
    if (gs === undefined || gs.metadata.deletionTimestamp !== undefined) return false;
    const state = gs.status.state;
    if (state === GameServerState.SHUTDOWN || state === GameServerState.UNHEALTHY || state === GameServerState.ERROR) return false;
    this.#write(namespace, name, (m) => {
      m.status = { ...m.status, state: to };
    });
    // The controller deletes Shutdown and Unhealthy servers.
    this.#schedule(this.#random.int(100, 501), { kind: "delete", namespace, name, uid: gs.metadata.uid });
    return true;
  }

  #markDeleted(namespace: string, name: string): GameServer | undefined {
    const gs = this.store.get(namespace, name);
    if (gs === undefined) return undefined;
    if (gs.metadata.deletionTimestamp !== undefined) return gs;
    const updated = this.#write(namespace, name, (m) => {
      m.metadata = { ...m.metadata, deletionTimestamp: this.timestamp() };
    });
    this.#schedule(this.#random.int(50, 201), { kind: "finalize", namespace, name, uid: gs.metadata.uid });
    return updated;
  }

  #setSdk(namespace: string, name: string, where: "labels" | "annotations", key: string, value: string): boolean {
    const written = this.#write(namespace, name, (m) => {
      m.metadata = { ...m.metadata, [where]: { ...m.metadata[where], [`${SDK_PREFIX}${key}`]: value } };
    });
    return written !== undefined;
  }

  /** Writes a new version of a stored server and records truth when its state or SDK labels changed. */
  #write(namespace: string, name: string, mutate: (draft: Mutable<GameServer>) => void): GameServer | undefined {
    const updated = this.store.update(namespace, name, (current, rv) => {
      const draft: Mutable<GameServer> = { ...current };
      mutate(draft);
      return { ...draft, metadata: { ...draft.metadata, resourceVersion: rv } };
    });
    const record = this.#records.get(keyOf(namespace, name));
    if (updated !== undefined && record !== undefined) this.#record(record, updated);
    return updated;
  }

  #record(record: ServerRecord, gs: GameServer): void {
    const last = record.history.at(-1);
    const entry: TruthEntry = Object.freeze({
      at: this.#queue.clockMs,
      state: gs.status.state,
      address: gs.status.address,
      ports: statusPorts(gs.status.ports === null ? [] : gs.spec.ports),
      sdkLabels: sdkLabelsOf(gs),
    });
    if (last !== undefined && last.state === entry.state && JSON.stringify(last.sdkLabels) === JSON.stringify(entry.sdkLabels)) return;
    record.history.push(entry);
    this.#pending.push({ namespace: record.namespace, name: record.name, entry });
  }

  #recordDeleted(record: ServerRecord, gs: GameServer): void {
    const entry: TruthEntry = Object.freeze({ at: this.#queue.clockMs, state: "Deleted", address: gs.status.address, ports: [], sdkLabels: sdkLabelsOf(gs) });
    record.history.push(entry);
    this.#pending.push({ namespace: record.namespace, name: record.name, entry });
    if (record.node !== undefined) for (const p of gs.spec.ports) if (p.hostPort !== undefined) this.#usedPorts[record.node]!.delete(p.hostPort);
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    if (this.#onTransition === undefined) return;
    for (const { namespace, name, entry } of pending) {
      try {
        this.#onTransition(namespace, name, entry);
      } catch {
        // A hook is an observer: its failure must not corrupt the world or fail the request that ran it.
      }
    }
  }

  /**
   * Host ports on a drawn node, or on the first other node with enough free when that one is full; undefined
   * when no node has room (Agones's allocator leaves the server in PortAllocation and tries again).
   */
  #allocatePorts(record: ServerRecord, ports: readonly GameServerPort[]): GameServerPort[] | undefined {
    const needed = ports.filter((p) => p.portPolicy !== "Static" && p.portPolicy !== "None").length;
    const hasRoom = (n: number): boolean => HOST_PORT_MAX - HOST_PORT_MIN - this.#usedPorts[n]!.size >= needed;
    const drawn = this.#random.int(0, this.#options.nodes);
    const node = hasRoom(drawn) ? drawn : this.#usedPorts.findIndex((_, n) => hasRoom(n));
    if (node === -1) return undefined;
    record.node = node;
    const used = this.#usedPorts[node]!;
    return allocatePorts(ports, () => {
      for (;;) {
        const port = this.#random.int(HOST_PORT_MIN, HOST_PORT_MAX);
        if (!used.has(port)) {
          used.add(port);
          return port;
        }
      }
    });
  }


  #startDelay(medianMs: number): number {
    return Math.round(Math.min(medianMs * 10, Math.max(medianMs / 10, this.#random.lognormal(medianMs, START_SIGMA))));
  }

  #drawScenario(): AgonesScenario {
    const u = this.#random.next();
    if (u < this.#options.errorProbability) return AgonesScenario.ERROR;
    if (u < this.#options.errorProbability + this.#options.unhealthyProbability) return AgonesScenario.UNHEALTHY;
    return AgonesScenario.READY;
  }

  #generateName(namespace: string, prefix: string): string {
    for (;;) {
      let suffix = "";
      for (let i = 0; i < 5; i++) suffix += this.#random.pick(GENERATE_NAME_ALPHABET);
      const name = `${prefix}${suffix}`;
      if (this.store.get(namespace, name) === undefined && !this.#records.has(keyOf(namespace, name))) return name;
    }
  }

  #newUid(): string {
    let hex = "";
    for (let i = 0; i < 32; i++) hex += this.#random.int(0, 16).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}
