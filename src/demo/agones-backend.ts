/**
 * The demo on the fake Agones cluster (AgonesSimulator, HTTPS with its own kubeconfig). Every room is a
 * GameServer watched through ONE AgonesSource (one list and one watch for the whole namespace: no request
 * per room). Players can join once the match is loaded, so the source's `activeWhen` is the SDK label
 * `agones.dev/sdk-loaded: "true"`, not `Ready` (a Ready or Allocated server has not loaded its match,
 * agones#2991). The demo plays the matchmaker: a room of a kind that is meant to host a match is allocated
 * as soon as it is Ready, and the simulated game sets the label a little later.
 *
 * Kinds: `loaded` (Scheduled -> Ready -> Allocated -> label -> active), `unhealthy` (Ready, never
 * allocated, then Unhealthy), `error` (Creating -> Error), `deleted-mid-start` (deleted once its watcher
 * saw it starting), `shutdown-after-load` (active, then the game shuts down).
 */
import { ConfigError } from "../core/errors.js";
import type { Connection } from "../core/observation.js";
import { kubeTransport } from "../providers/agones/kube-transport.js";
import { AgonesSource } from "../providers/agones/source.js";
import { AgonesSimulator } from "../simulator/agones/simulator.js";
import type { AgonesScenario, GameServerTruth } from "../simulator/agones/world.js";
import type { DemoBackend, DemoTruth } from "./backend.js";

export const AgonesDemoKind = {
  LOADED: "loaded",
  UNHEALTHY: "unhealthy",
  ERROR: "error",
  DELETED_MID_START: "deleted-mid-start",
  SHUTDOWN_AFTER_LOAD: "shutdown-after-load",
} as const;
export type AgonesDemoKind = (typeof AgonesDemoKind)[keyof typeof AgonesDemoKind];

export interface AgonesDemoOptions {
  readonly seed: number;
  readonly timeScale: number;
  readonly counts: Partial<Record<string, number>>;
  readonly gateway: boolean;
}

const DEFAULT_COUNTS: Record<AgonesDemoKind, number> = { loaded: 6, unhealthy: 2, error: 1, "deleted-mid-start": 2, "shutdown-after-load": 2 };
const SCENARIOS: Record<AgonesDemoKind, AgonesScenario> = {
  loaded: "ready",
  unhealthy: "unhealthy",
  error: "error",
  "deleted-mid-start": "ready",
  "shutdown-after-load": "ready",
};
/** Kinds the matchmaker allocates once Ready. */
const ALLOCATED_KINDS: ReadonlySet<AgonesDemoKind> = new Set(["loaded", "shutdown-after-load"]);
/** The label the demo's matchmaker allocates a room by (its own name: one room per allocation). */
const ROOM_LABEL = "demo.room-watcher.dev/room";
const LOADED_LABEL = "loaded";
const LOADED_KEY = `agones.dev/sdk-${LOADED_LABEL}`;
const ACTIVE_STATES: ReadonlySet<string> = new Set(["Ready", "Reserved", "Allocated"]);
/** The first of these a GameServer reaches is how its watch must end. */
const ENDINGS: Readonly<Record<string, string>> = { Shutdown: "shutdown", Unhealthy: "unhealthy", Error: "error", Deleted: "deleted" };

function isKind(kind: string): kind is AgonesDemoKind {
  return Object.hasOwn(DEFAULT_COUNTS, kind);
}

export async function startAgonesDemo(options: AgonesDemoOptions): Promise<DemoBackend> {
  if (options.gateway) throw new ConfigError("the Agones demo watches the Kubernetes API directly: --gateway is for the Hathora demo");
  const counts: Record<AgonesDemoKind, number> = { ...DEFAULT_COUNTS };
  for (const [kind, count] of Object.entries(options.counts)) {
    if (!isKind(kind)) throw new ConfigError(`the Agones demo has no room kind ${JSON.stringify(kind)}: expected one of ${Object.keys(DEFAULT_COUNTS).join(", ")}`);
    if (count === undefined || !Number.isInteger(count) || count < 0) throw new ConfigError(`demo count of ${kind} must be a non-negative integer`);
    counts[kind] = count;
  }
  const kinds = new Map<string, AgonesDemoKind>();
  let closed = false;
  // The simulator reports each transition from inside its own step: allocate once that step is over.
  const allocateWhenReady = (name: string, state: string): void => {
    const kind = kinds.get(name);
    if (state !== "Ready" || kind === undefined || !ALLOCATED_KINDS.has(kind)) return;
    queueMicrotask(() => {
      if (!closed) simulator.allocate({ [ROOM_LABEL]: name });
    });
  };
  const simulator = await AgonesSimulator.start({
    seed: options.seed,
    timeScale: options.timeScale,
    loadedLabel: LOADED_LABEL,
    // Sessions outlast the demo: a loaded room ends only when its kind says so.
    sessionMs: [3_600_000, 3_600_000],
    onTransition: (_namespace, name, entry) => allocateWhenReady(name, entry.state),
  });
  let source: AgonesSource;
  try {
    const transport = await kubeTransport({ kubeconfig: simulator.kubeconfigPath });
    source = new AgonesSource({ transport, namespace: simulator.namespace, activeWhen: { label: LOADED_LABEL, value: "true" } });
  } catch (error) {
    await simulator.close();
    throw error;
  }
  const created = new Map<AgonesDemoKind, number>();
  const initialKinds = (Object.keys(DEFAULT_COUNTS) as AgonesDemoKind[]).flatMap((kind) => Array.from({ length: counts[kind] }, () => kind));
  return {
    description: `Agones simulator seed ${options.seed}, time scale ${options.timeScale}x, one list+watch for the namespace, active once the game sets ${LOADED_KEY}`,
    initialKinds,
    laterRooms: () => 0,
    create(kind) {
      if (!isKind(kind)) throw new ConfigError(`unknown demo room kind ${kind}`);
      const n = (created.get(kind) ?? 0) + 1;
      created.set(kind, n);
      const name = `${kind}-${n}`;
      kinds.set(name, kind);
      simulator.createGameServer({ name, scenario: SCENARIOS[kind], labels: { [ROOM_LABEL]: name } });
      return name;
    },
    watchOptions: () => ({ source }),
    onStarting(room) {
      if (room.kind === AgonesDemoKind.DELETED_MID_START) simulator.deleteGameServer(room.roomId);
    },
    onActive(room) {
      if (room.kind === AgonesDemoKind.SHUTDOWN_AFTER_LOAD) simulator.shutdown(room.roomId);
      return [];
    },
    settled(room, status) {
      return room.kind === AgonesDemoKind.LOADED ? status === "active" : status === "terminated";
    },
    truth(roomId) {
      return truthOf(simulator.truth(roomId), (at) => simulator.realTimeOf(at));
    },
    // A room costs no request of its own: the namespace's one list and watch serve them all.
    requests: () => 0,
    async close() {
      closed = true;
      await source.close();
      await simulator.close();
    },
  };
}

/** What a watcher of this GameServer must report, from the simulator's history of it. */
export function truthOf(truth: GameServerTruth | undefined, realTimeOf: (simulatedMs: number) => number): DemoTruth {
  const history = truth?.history ?? [];
  const ending = history.find((entry) => ENDINGS[entry.state] !== undefined);
  const activeEntry = history.find((entry) => ACTIVE_STATES.has(entry.state) && entry.sdkLabels[LOADED_KEY] === "true");
  const port = activeEntry?.ports[0];
  const connection: Connection | undefined =
    activeEntry === undefined || port === undefined
      ? undefined
      : { exposedPort: { host: activeEntry.address, port: port.port, transportType: "udp", name: port.name }, additionalExposedPorts: [] };
  return {
    status: ending !== undefined ? (ENDINGS[ending.state] ?? "unknown") : activeEntry !== undefined ? "active" : history.length > 0 ? "starting" : "unknown",
    connection,
    moved: false,
    activeAt: activeEntry === undefined ? undefined : realTimeOf(activeEntry.at),
  };
}
