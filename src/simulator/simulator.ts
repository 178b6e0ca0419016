/**
 * A Hathora-compatible rooms API on loopback, for tests, demos and benchmarks: seeded, scriptable, with
 * ground truth to compare a watcher's reports against, and fault injection.
 */
import type { AddressInfo } from "node:net";
import { ConfigError } from "../core/errors.js";
import type { Region } from "../providers/hathora/schemas.js";
import { FaultInjector, type FaultOptions } from "./faults.js";
import { GameServerHints, type HintCounts, type HintTarget } from "./hints.js";
import { createSimulatorServer, type Endpoint, type SimulatorServer } from "./server.js";
import { createSimulatedTime, type NowClock, performanceClock, type SimulatedTime } from "./simulated-time.js";
import { World, type RoomTruth, type Scenario, type WorldOptions } from "./world.js";

export type { FaultOptions, RateLimitFault } from "./faults.js";
export type { Endpoint } from "./server.js";
export type { RoomTruth, Scenario, TransitionHook, TruthEntry, TruthStatus } from "./world.js";
export type { HintCounts, HintTarget } from "./hints.js";

/** World options (seed, host, start-time distribution, ...) plus how the server runs. */
export interface SimulatorOptions extends WorldOptions {
  /** Simulated ms per real ms; 100 makes a 5 s cold start take 50 ms. Default 1. */
  timeScale?: number | undefined;
  /** Bearer token admin calls must carry. Default: any non-empty bearer token. */
  token?: string | undefined;
  /** The only app id served; other app ids answer 404. Default: any well-formed app id. */
  appId?: string | undefined;
  /** Faults on connection info (and admin calls with `faultAdmin`). Default none. */
  faults?: FaultOptions | undefined;
  /** Inject faults on admin endpoints too. Default false. */
  faultAdmin?: boolean | undefined;
  /** Source of real time in ms. Default performance.now(). */
  clock?: NowClock | undefined;
  /** Advance the world on a timer at least this many real ms apart, so hooks fire without requests. Default unset. */
  tickMs?: number | undefined;
}

export interface SimulatorListenOptions {
  /** Port to listen on. Default 0 (any free port). */
  port?: number | undefined;
  /** Interface to listen on. Default "127.0.0.1". */
  hostname?: string | undefined;
}

export interface CreateRoomOptions {
  /** Default: 13 seeded lowercase alphanumerics. */
  roomId?: string | undefined;
  /** Default "Seattle". */
  region?: Region | undefined;
  /** Default: drawn like a room created over HTTP. "warm" needs a running process with capacity. */
  scenario?: Scenario | undefined;
}

export class Simulator {
  /** Base URL, e.g. "http://127.0.0.1:41234" (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly #world: World;
  readonly #time: SimulatedTime;
  readonly #faults: FaultInjector;
  readonly #http: SimulatorServer;
  readonly #appId: string | undefined;
  readonly #hints: GameServerHints;
  readonly #ticking: boolean;

  private constructor(
    world: World,
    time: SimulatedTime,
    faults: FaultInjector,
    http: SimulatorServer,
    appId: string | undefined,
    url: string,
    port: number,
    hints: GameServerHints,
    ticking: boolean,
  ) {
    this.#hints = hints;
    this.#ticking = ticking;
    this.#world = world;
    this.#time = time;
    this.#faults = faults;
    this.#http = http;
    this.#appId = appId;
    this.url = url;
    this.port = port;
  }

  /** Starts a simulator listening on 127.0.0.1, on a free port by default. */
  static async start(options: SimulatorOptions & SimulatorListenOptions = {}): Promise<Simulator> {
    if (options.tickMs !== undefined && !(Number.isFinite(options.tickMs) && options.tickMs > 0)) {
      throw new ConfigError("tickMs must be a positive number");
    }
    const seed = options.seed ?? 1;
    const time = createSimulatedTime(options.clock ?? performanceClock, options.timeScale ?? 1);
    // Allocation dates follow the wall clock unless the caller pins them.
    const hints = new GameServerHints();
    const onTransition = options.onTransition;
    const world = new World({
      ...options,
      seed,
      epochMs: options.epochMs ?? Date.now(),
      onTransition: (roomId, status, exposedPort, atMs) => {
        onTransition?.(roomId, status, exposedPort, atMs);
        hints.onTransition(roomId, status, exposedPort);
      },
    });
    const faults = new FaultInjector(seed, options.faults);
    const http = createSimulatorServer(world, {
      time,
      faults,
      token: options.token,
      appId: options.appId,
      faultAdmin: options.faultAdmin,
      tickMs: options.tickMs,
    });
    const hostname = options.hostname ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      http.server.once("error", onError);
      http.server.listen(options.port ?? 0, hostname, () => {
        http.server.off("error", onError);
        resolve();
      });
    });
    const { port } = http.server.address() as AddressInfo;
    const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname;
    return new Simulator(world, time, faults, http, options.appId, `http://${urlHost}:${port}`, port, hints, options.tickMs !== undefined);
  }

  /** Creates a room without HTTP; throws ConfigError for a bad or taken room id or an impossible warm start. */
  createRoom(appId: string, options: CreateRoomOptions = {}): { roomId: string; processId: string } {
    if (this.#appId !== undefined && appId !== this.#appId) {
      throw new ConfigError(`this simulator only serves app ${this.#appId}`);
    }
    const created = this.#world.createRoom(this.#time.now(), { appId, ...options });
    this.#http.worldChanged();
    return { roomId: created.roomId, processId: created.processId };
  }

  /** Destroys a room now. False when it is unknown, of another app, or already destroyed. */
  destroyRoom(appId: string, roomId: string): boolean {
    if (this.#world.truth(this.#time.now(), roomId)?.appId !== appId) return false;
    return this.#changed(this.#world.destroyRoom(this.#time.now(), roomId));
  }

  /** Suspends a room now. False when it is unknown or destroyed. */
  suspendRoom(roomId: string): boolean {
    return this.#changed(this.#world.suspendRoom(this.#time.now(), roomId));
  }

  /** Reschedules a suspended room; returns its process, or undefined when it is unknown or destroyed. */
  resumeRoom(roomId: string): string | undefined {
    return this.#changed(this.#world.resumeRoom(this.#time.now(), roomId)?.processId);
  }

  /** Kills a process now; its rooms restart on a new cold process with a new port. Returns their ids. */
  crashProcess(processId: string): string[] {
    return this.#changed(this.#world.crashProcess(this.#time.now(), processId));
  }

  /** Crashes a process at simulated `atMs`. */
  scheduleCrash(processId: string, atMs: number): void {
    this.#changed(this.#world.scheduleCrash(this.#time.now(), processId, atMs));
  }

  /** Destroys a room at simulated `atMs`. */
  scheduleDestroy(roomId: string, atMs: number): void {
    this.#changed(this.#world.scheduleDestroy(this.#time.now(), roomId, atMs));
  }

  /** The process a room is allocated to now; undefined when suspended, destroyed or unknown. */
  processOf(roomId: string): string | undefined {
    return this.#world.processOf(this.#time.now(), roomId);
  }

  /** Ground truth of a room, destroyed ones included. */
  truth(roomId: string): RoomTruth | undefined {
    return this.#world.truth(this.#time.now(), roomId);
  }

  /** Every room id ever created (destroyed ones included), in creation order. */
  rooms(): string[] {
    return this.#world.roomIds();
  }

  setFaults(faults: FaultOptions): void {
    this.#faults.setFaults(faults);
  }

  /** Faults for one room, overriding the server's field by field; undefined removes them. */
  setRoomFaults(roomId: string, faults: FaultOptions | undefined): void {
    this.#faults.setRoomFaults(roomId, faults);
  }

  /** Injected faults by kind: "drop", "rateLimit", "http500", "malformed", "latency", ... */
  faultCounts(): Record<string, number> {
    return this.#faults.counts();
  }

  /** Requests naming `roomId` (all requests when omitted), optionally of one endpoint. */
  requestCount(roomId?: string, endpoint?: Endpoint): number {
    return this.#http.requestCount(roomId, endpoint);
  }

  /** Simulated ms since start. */
  now(): number {
    return this.#time.now();
  }

  /** The clock reading (performance.now() by default) at which simulated time reaches `simulatedMs`. */
  realTimeOf(simulatedMs: number): number {
    return this.#time.realTimeOf(simulatedMs);
  }

  /**
   * Plays the game servers' part: each room turning active sends `target` (a gateway) a readiness
   * hint. Undefined stops it. Needs `tickMs`, so rooms turn active on time without being polled.
   */
  sendHints(target: HintTarget | undefined): void {
    if (target !== undefined && !this.#ticking) throw new ConfigError("sendHints needs the simulator started with tickMs");
    this.#hints.setTarget(target);
  }

  /** Hints sent so far, and when (performance.now()) each room's was sent. */
  hintStats(): HintCounts & { readonly sentAt: ReadonlyMap<string, number> } {
    return { ...this.#hints.counts, sentAt: this.#hints.sentAt };
  }

  /** Closes the server and every open socket and clears every timer, after answered hints. Idempotent. */
  async close(): Promise<void> {
    this.#hints.setTarget(undefined);
    await this.#hints.settle();
    return this.#http.close();
  }

  #changed<T>(result: T): T {
    this.#http.worldChanged();
    return result;
  }
}
