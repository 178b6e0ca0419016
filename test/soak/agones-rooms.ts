/**
 * The Agones third of the chaos soak: a fake Agones cluster (AgonesSimulator) with seeded GameServer
 * lifecycles, watched through one AgonesSource (one namespace, one list+watch), and the faults only a
 * Kubernetes watch suffers: streams cut, a stream gone silent (the stall watchdog must catch it), 410
 * storms after a compaction, and 429 and 5xx on the relist. Each room's final report is checked against the
 * simulator's truth.
 */
import { request as httpsRequest } from "node:https";
import { kubeTransport } from "../../src/providers/agones/kube-transport.js";
import { AgonesSource } from "../../src/providers/agones/source.js";
import type { AgonesTransport } from "../../src/providers/agones/transport.js";
import { isGone } from "../../src/providers/agones/api-errors.js";
import type { RoomState } from "../../src/core/room-state.js";
import { AgonesSimulator, type AgonesFaultOptions, type GameServerTruth } from "../../src/simulator/index.js";
import { seededRandom } from "../helpers/prng.js";
import { type ActiveSeen, grew, type Later, type ProviderRooms, untilMet } from "./provider-rooms.js";

/** What the soak does to a GameServer, drawn per room (each once first, then at random). */
export const AgonesPlan = {
  /** Ready, and left so: the watcher must end active at its address. */
  READY: "ready",
  /** Allocated once active (a matchmaker's GameServerAllocation); its session ends in Shutdown, then deletion. */
  ALLOCATE: "allocate",
  /** The game shuts itself down after Ready. */
  SHUTDOWN: "shutdown",
  /** Fails its health checks after Ready. */
  UNHEALTHY: "unhealthy",
  /** Its pod cannot be created: Error, kept. */
  ERROR: "error",
  /** Deleted as soon as the watcher reports it starting. */
  DELETE_MID_START: "delete-mid-start",
  /** Deleted as soon as the watcher reports it active. */
  DELETE_AFTER_ACTIVE: "delete-after-active",
} as const;
export type AgonesPlan = (typeof AgonesPlan)[keyof typeof AgonesPlan];
const PLANS: readonly AgonesPlan[] = Object.values(AgonesPlan);
/** Draw weights, in PLANS order: mostly rooms that stay, every ending well represented. */
const PLAN_WEIGHTS: readonly number[] = [0.3, 0.15, 0.1, 0.1, 0.1, 0.1, 0.15];

const NAMESPACE = "soak-games";
const ROOM_LABEL = "soak.room-watcher.dev/room";
/** Simulated ms per real ms: a boot of ~4.5 s takes ~225 ms, as the Hathora simulator's rooms do. */
const TIME_SCALE = 20;
/**
 * The watchdog's silence limit. Bookmarks come every BOOKMARK_INTERVAL_MS / TIME_SCALE = 200 ms real, so a
 * healthy watch is never that quiet; a silenced one is caught in a second instead of the default 90.
 */
export const STALL_TIMEOUT_MS = 1_000;
const BOOKMARK_INTERVAL_MS = 4_000;
const BASE_FAULTS: AgonesFaultOptions = {
  list: { errorRates: { 500: 0.05, 503: 0.05 }, latencyMs: [0, 20] },
  watch: { dropRate: 0.01, silentRate: 0.03, goneRate: 0.03 },
};
/** The longest a burst of faults waits for the client to meet it (real ms). */
const BURST_MAX_MS = 3_000;
/** Kinds of chaos step: a cut, a silence, a 410 storm, 429s and 5xx on the relist. */
const CHAOS_KINDS = 5;
const ACTIVE_STATES: ReadonlySet<string> = new Set(["Ready", "Reserved", "Allocated"]);

export interface AgonesRoom {
  readonly roomId: string;
  readonly plan: AgonesPlan;
  deleted: boolean;
  allocated: boolean;
}

const portKey = (p: { host: string; port: number } | undefined): string => (p === undefined ? "-" : `${p.host}:${p.port}`);
const truthPortKey = (entry: { address: string; ports: readonly { port: number }[] } | undefined): string =>
  entry === undefined || entry.address === "" || entry.ports[0] === undefined ? "-" : `${entry.address}:${entry.ports[0].port}`;

/** What the soak's own client saw of the namespace watch (the reflector hides its restarts from rooms). */
interface WatchCounts {
  listsOk: number;
  watches: number;
  watch410: number;
  streamsBroken: number;
  stallsCaught: number;
  /** Every GameServer name the API ever showed this client, in a list or a watch event. */
  readonly seen: Set<string>;
}

const nameOf = (object: unknown): unknown => (object as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;

/**
 * The kubeconfig transport, counting what happened to each watch. A watch the reflector abandoned after
 * STALL_TIMEOUT_MS without a line is a stall the watchdog caught (the only other abort is the soak's stop).
 */
function countingTransport(inner: AgonesTransport, counts: WatchCounts, stopping: () => boolean): AgonesTransport {
  return {
    server: inner.server,
    async list(namespace, signal) {
      const body = await inner.list(namespace, signal);
      counts.listsOk++;
      for (const item of (body as { items?: unknown[] }).items ?? []) if (typeof nameOf(item) === "string") counts.seen.add(nameOf(item) as string);
      return body;
    },
    async *watch(namespace, resourceVersion, timeoutSeconds, signal) {
      counts.watches++;
      let lastLineAt = Date.now();
      try {
        for await (const line of inner.watch(namespace, resourceVersion, timeoutSeconds, signal)) {
          lastLineAt = Date.now();
          const event = line as { type?: unknown; object?: { code?: unknown } };
          if (event.type === "ERROR" && event.object?.code === 410) counts.watch410++;
          else if (typeof nameOf(event.object) === "string") counts.seen.add(nameOf(event.object) as string);
          yield line;
        }
      } catch (error) {
        if (!signal.aborted) {
          if (isGone(error)) counts.watch410++;
          else counts.streamsBroken++;
        }
        throw error;
      } finally {
        // 0.9: the reflector's clock and ours read the same line a few ms apart.
        if (signal.aborted && !stopping() && Date.now() - lastLineAt >= STALL_TIMEOUT_MS * 0.9) counts.stallsCaught++;
      }
    },
  };
}

export class AgonesRooms implements ProviderRooms<AgonesRoom> {
  readonly name = "agones";
  readonly source: AgonesSource;
  readonly sim: AgonesSimulator;
  readonly #token: string;
  readonly #random: () => number;
  readonly #counts: WatchCounts;
  readonly #chaos = { streamsDropped: 0, silences: 0, compactions: 0, goneStorms: 0, list429Bursts: 0, list5xxBursts: 0, deleteMidStart: 0, deleteAfterActive: 0, allocations: 0 };
  readonly #allocating = new Set<Promise<void>>();
  readonly errors: string[] = [];
  readonly #lifecycle: { stopping: boolean };
  #created = 0;
  #chaosRound = 0;
  #calm = false;

  private constructor(sim: AgonesSimulator, source: AgonesSource, token: string, random: () => number, counts: WatchCounts, lifecycle: { stopping: boolean }) {
    this.#lifecycle = lifecycle;
    this.sim = sim;
    this.source = source;
    this.#token = token;
    this.#random = random;
    this.#counts = counts;
  }

  static async start(seed: number): Promise<AgonesRooms> {
    // A known token, so that the soak's matchmaker can allocate over HTTPS as a real one would.
    const token = `soak-${seed}`;
    const sim = await AgonesSimulator.start({
      seed,
      timeScale: TIME_SCALE,
      namespace: NAMESPACE,
      token,
      bookmarkIntervalMs: BOOKMARK_INTERVAL_MS,
      // Sessions short enough that allocated rooms end within the chaos.
      sessionMs: [2_000, 20_000],
      faults: BASE_FAULTS,
    });
    const counts: WatchCounts = { listsOk: 0, watches: 0, watch410: 0, streamsBroken: 0, stallsCaught: 0, seen: new Set() };
    const lifecycle = { stopping: false };
    const transport = countingTransport(await kubeTransport({ kubeconfig: sim.kubeconfigPath }), counts, () => lifecycle.stopping);
    const random = seededRandom(seed ^ 0x9e3779b9);
    const source = new AgonesSource({
      transport,
      namespace: NAMESPACE,
      stallTimeoutMs: STALL_TIMEOUT_MS,
      initialRetryDelayMs: 100,
      maxRetryDelayMs: 1_000,
      maxRetryAfterMs: 2_000,
      random: seededRandom(seed ^ 0x85ebca6b),
    });
    return new AgonesRooms(sim, source, token, random, counts, lifecycle);
  }

  /** Creates the next GameServer with its plan. */
  create(): AgonesRoom {
    const n = this.#created++;
    const plan = n < PLANS.length ? PLANS[n]! : this.#drawPlan();
    const roomId = `room-${n}`;
    const scenario = plan === AgonesPlan.SHUTDOWN ? "shutdown" : plan === AgonesPlan.UNHEALTHY ? "unhealthy" : plan === AgonesPlan.ERROR ? "error" : "ready";
    // Half the servers have a TCPUDP port, which Agones splits in two: exposedPort and one additional.
    const ports = n % 2 === 0 ? [{ name: "game", protocol: "TCPUDP" as const }] : undefined;
    this.sim.createGameServer({ name: roomId, scenario, labels: { [ROOM_LABEL]: roomId }, ports });
    return { roomId, plan, deleted: false, allocated: false };
  }

  /** The watcher said `starting`. */
  onStarting(room: AgonesRoom): void {
    if (room.plan === AgonesPlan.DELETE_MID_START && !room.deleted && this.sim.deleteGameServer(room.roomId)) {
      room.deleted = true;
      this.#chaos.deleteMidStart++;
    }
  }

  /** The watcher said `active`. */
  onActive(room: AgonesRoom): void {
    // A room first seen active (its start fell in a watch outage) is deleted now: its plan still ends in deletion.
    if ((room.plan === AgonesPlan.DELETE_AFTER_ACTIVE || room.plan === AgonesPlan.DELETE_MID_START) && !room.deleted && this.sim.deleteGameServer(room.roomId)) {
      room.deleted = true;
      this.#chaos.deleteAfterActive++;
    }
    if (room.plan === AgonesPlan.ALLOCATE && !room.allocated) {
      room.allocated = true;
      const done = this.#allocate(room.roomId).then(
        (state) => {
          if (state === "Allocated") this.#chaos.allocations++;
          else this.errors.push(`allocation of ${room.roomId} answered ${state}`);
        },
        (error: unknown) => void this.errors.push(`allocation of ${room.roomId} failed: ${String(error)}`),
      );
      this.#allocating.add(done);
      void done.finally(() => this.#allocating.delete(done));
    }
  }

  /**
   * Whether the watcher's state is the room's final truth: active only for a room left Ready, else the ending
   * it had. A GameServer whose whole life fell in a watch outage that ended in a relist (a 410) was never
   * shown to any client: for the API it was never there, and `not_found` is then the true report.
   */
  agrees(room: AgonesRoom, state: RoomState): boolean {
    const truth = this.sim.truth(room.roomId);
    if (truth === undefined) return false;
    if (state.status === "terminated" && state.reason === "not_found") return truth.state === "Deleted" && !this.#counts.seen.has(room.roomId);
    if (state.status === "active") {
      return room.plan === AgonesPlan.READY && ACTIVE_STATES.has(truth.state) && portKey(state.connection.exposedPort) === truthPortKey(truth.history.at(-1));
    }
    if (state.status !== "terminated") return false;
    if (state.reason === "deleted") return truth.state === "Deleted" || this.sim.gameServer(room.roomId)?.metadata.deletionTimestamp !== undefined;
    // Seen ending (Shutdown, Unhealthy, Error) before the deletion that may follow it.
    return truth.history.some((entry) => entry.state.toLowerCase() === state.reason);
  }

  /** What is wrong with a room's report, beyond `agrees`: every active event at an address the server really had, both halves of a TCPUDP port. */
  check(room: AgonesRoom, actives: readonly ActiveSeen[]): string[] {
    const truth = this.sim.truth(room.roomId);
    const wrong: string[] = [];
    for (const active of actives) {
      const entry = truth?.history.find((e) => ACTIVE_STATES.has(e.state) && truthPortKey(e) === portKey(active.port));
      if (entry === undefined) wrong.push(`agones ${room.roomId}: active at ${portKey(active.port)}, which it never had while active (${describe(truth)})`);
      else if (entry.ports.length > 1 && !active.additional.some((p) => p.port === entry.ports[1]!.port)) {
        wrong.push(`agones ${room.roomId}: TCPUDP port ${entry.ports[1]!.name} missing from additionalExposedPorts`);
      }
    }
    return wrong;
  }

  describe(roomId: string): string {
    return describe(this.sim.truth(roomId));
  }

  /**
   * One step of watch and list chaos; calls `next` when the next may start. A burst of faults lasts until the
   * client has met it (a relist answered 429, say), so every kind happens whatever the timing.
   */
  chaosStep(later: Later, next: () => void): void {
    // Each kind once first, whatever the draws; then at random.
    const kind = this.#chaosRound < CHAOS_KINDS ? this.#chaosRound : Math.floor(this.#random() * CHAOS_KINDS);
    this.#chaosRound++;
    const until = (met: () => boolean, after: () => void, maxMs = BURST_MAX_MS): void => untilMet(later, met, after, maxMs);
    const burst = (list: AgonesFaultOptions["list"], met: () => boolean): void => {
      // A 410 storm with the list faults: the cut stream's watch resumes into a 410, and the relist meets them.
      // The compaction makes any watch that resumes from before it (a silenced one, say) expire as well.
      this.sim.setFaults({ ...BASE_FAULTS, list, watch: { ...BASE_FAULTS.watch, goneRate: 1 } });
      this.sim.compactHistory();
      this.#chaos.compactions++;
      this.#chaos.streamsDropped += this.sim.dropWatches();
      until(met, () => {
        if (!this.#calm) this.sim.setFaults(BASE_FAULTS);
        later(100, next);
      });
    };
    const listFaults = (...kinds: string[]) => () => kinds.reduce((n, kind) => n + (this.sim.faultCounts()[kind] ?? 0), 0);
    switch (kind) {
      case 0: {
        // Cut the watch as soon as one is open (the reflector may be between a list and its watch).
        const drop = (): boolean => {
          const dropped = this.sim.dropWatches();
          this.#chaos.streamsDropped += dropped;
          return dropped > 0;
        };
        until(drop, () => later(150 + this.#random() * 300, next));
        return;
      }
      case 1: {
        // Silence the watch (and any that replaces it) until the watchdog has caught one; nothing else
        // touches the watch meanwhile.
        const caught = grew(() => this.#counts.stallsCaught);
        let silenced = false;
        const silence = (): boolean => {
          if (caught()) return true;
          if (this.sim.silenceWatches() > 0 && !silenced) {
            silenced = true;
            this.#chaos.silences++;
          }
          return false;
        };
        until(silence, () => later(100, next), STALL_TIMEOUT_MS + BURST_MAX_MS);
        return;
      }
      case 2:
        this.#chaos.goneStorms++;
        burst(BASE_FAULTS.list, grew(() => this.#counts.watch410));
        return;
      case 3:
        this.#chaos.list429Bursts++;
        burst({ ...BASE_FAULTS.list, rateLimit: { probability: 1, retryAfterSeconds: 1 } }, grew(listFaults("rateLimit")));
        return;
      default:
        this.#chaos.list5xxBursts++;
        burst({ ...BASE_FAULTS.list, errorRates: { 500: 0.3, 503: 0.3 } }, grew(listFaults("http500", "http503")));
        return;
    }
  }

  get everyChaosKindRan(): boolean {
    return this.#chaosRound >= CHAOS_KINDS;
  }

  /** The chaos is over: no more faults. */
  calm(): void {
    this.#calm = true;
    this.sim.setFaults({});
  }

  /** Faults injected (by the server, and by the soak on demand) and what the client saw of them. */
  faultCounts(): Record<string, number> {
    const list = Object.fromEntries(Object.entries(this.sim.faultCounts()).map(([kind, n]) => [`list.${kind}`, n]));
    const { listsOk, watches, watch410, streamsBroken, stallsCaught, seen } = this.#counts;
    const lifetimesUnseen = this.#created - [...seen].filter((name) => name.startsWith("room-")).length;
    return { ...list, ...this.#chaos, watches, watch410, streamsBroken, stallsCaught, relists: Math.max(0, listsOk - 1), lifetimesUnseen };
  }

  /** How many GameServers reached each state (their truth), whatever the watchers saw of it. */
  truthCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (let n = 0; n < this.#created; n++) {
      for (const state of new Set(this.sim.truth(`room-${n}`)?.history.map((e) => e.state))) counts[state] = (counts[state] ?? 0) + 1;
    }
    return counts;
  }

  /** Timers the source still holds. */
  get pendingTimers(): number {
    return this.source.pendingTimers;
  }

  /** Waits for allocations in flight, stops the source, then the simulator. */
  async close(): Promise<void> {
    this.#lifecycle.stopping = true;
    await Promise.all([...this.#allocating]);
    await this.source.close();
    await this.sim.close();
  }

  #drawPlan(): AgonesPlan {
    let u = this.#random();
    for (let i = 0; i < PLANS.length; i++) {
      u -= PLAN_WEIGHTS[i]!;
      if (u < 0) return PLANS[i]!;
    }
    return AgonesPlan.READY;
  }

  /** POSTs a GameServerAllocation for this one server (its own label), as a matchmaker does; answers its state. */
  #allocate(roomId: string): Promise<string> {
    const body = JSON.stringify({
      apiVersion: "allocation.agones.dev/v1",
      kind: "GameServerAllocation",
      spec: { selectors: [{ matchLabels: { [ROOM_LABEL]: roomId } }] },
    });
    const url = `${this.sim.url}/apis/allocation.agones.dev/v1/namespaces/${NAMESPACE}/gameserverallocations`;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        { method: "POST", ca: this.sim.caPem, agent: false, headers: { authorization: `Bearer ${this.#token}`, "content-type": "application/json" } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => void (text += chunk));
          res.on("error", reject);
          res.on("end", () => {
            try {
              resolve((JSON.parse(text) as { status?: { state?: string } }).status?.state ?? `HTTP ${res.statusCode}`);
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }
}

function describe(truth: GameServerTruth | undefined): string {
  if (truth === undefined) return "no such GameServer";
  return `truth ${truth.scenario}: ${truth.history.map((e) => `${e.state}@${e.at}${e.state === "Ready" ? ` ${truthPortKey(e)}` : ""}`).join(" > ")}`;
}
