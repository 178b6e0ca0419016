/**
 * Agones GameServers as a push source: a room is a GameServer (its name), the namespace is the app. One
 * reflector (list + watch) serves every room watched through the source; it starts with the first room and
 * stops when the last leaves. A room costs a cache lookup, never a request: a room that subscribes hears its
 * cached object at once, so there is no GET racing the watch (agones#1703). A room not in the namespace is
 * told `not_found` again every `notFoundRecheckMs` from the cache, so the state machine's not-found grace
 * runs as it does on a polled host; one seen and then gone is `deleted`.
 */
import { type Clock, systemClock } from "../../core/clock.js";
import { ConfigError, InvalidPayloadError } from "../../core/errors.js";
import type { SourceTarget } from "../../core/evidence.js";
import { identities } from "../../core/identity.js";
import type { PollResult } from "../../core/observation.js";
import type { PushSource, SourceListener, TransientFailure } from "../../core/source.js";
import { TimerHeap, type TimerHandle } from "../../core/timer-heap.js";
import { validateDurationMs } from "../../core/validate.js";
import { type ActiveWhen, deletedObservation, type MappingOptions, observeGameServer, resolveActiveWhen } from "./mapping.js";
import { validateGameServerName, validateNamespace } from "./names.js";
import {
  type CacheChange,
  DEFAULT_INITIAL_RETRY_DELAY_MS,
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_STALL_TIMEOUT_MS,
  Reflector,
  type ReflectorObserver,
} from "./reflector.js";
import type { AgonesTransport } from "./transport.js";
import type { GameServerEntry } from "./wire.js";

export const DEFAULT_NAMESPACE = "default";
/** How often a room missing from the namespace is told `not_found` again (from the cache: no request). */
export const DEFAULT_NOT_FOUND_RECHECK_MS = 1_000;

export interface AgonesSourceOptions {
  /** How to reach the API server: `await kubeTransport({ ... })` from `room-watcher/agones`, or your own. */
  transport: AgonesTransport;
  /** The namespace the GameServers live in. Default `"default"`. */
  namespace?: string | undefined;
  /** When a GameServer counts as active. Default `"Ready"` (Ready, Reserved or Allocated). */
  activeWhen?: ActiveWhen | undefined;
  /** The `status.ports` entry players connect to (a TCPUDP port's own name finds both halves). Default the first. */
  portName?: string | undefined;
  /** Take the host from the first `status.addresses` entry of this type (`ExternalDNS`, `InternalIP`, `PodIP`, ...). Default `status.address`. */
  addressType?: string | undefined;
  /** Restart a watch that has said nothing (no event, no bookmark) for this long. Default 90,000 ms. */
  stallTimeoutMs?: number | undefined;
  /** First delay after a failed list or watch (doubling, equal jitter). Default 800 ms. */
  initialRetryDelayMs?: number | undefined;
  /** Cap of that delay. Default 30,000 ms. */
  maxRetryDelayMs?: number | undefined;
  /** Cap of a 429's Retry-After. Default 60,000 ms. */
  maxRetryAfterMs?: number | undefined;
  /** How often a room missing from the namespace hears `not_found` again. Default 1,000 ms. */
  notFoundRecheckMs?: number | undefined;
  /** Time source. Default the system clock. */
  clock?: Clock | undefined;
  /** Uniform random numbers in [0, 1) for jitter and watch timeouts. Default Math.random. */
  random?: (() => number) | undefined;
}

/** The transport a source talks through, named for its key. */
const transportIdentity = identities("transport");

interface Room {
  readonly name: string;
  readonly listeners: Set<SourceListener>;
  /** The latest result, replayed to a listener that joins later. */
  last: { readonly result: PollResult; readonly at: number } | undefined;
  recheck: TimerHandle | undefined;
}

export class AgonesSource implements PushSource {
  readonly kind = "push";
  readonly key: string;
  readonly namespace: string;
  readonly server: string;
  readonly #transport: AgonesTransport;
  readonly #mapping: MappingOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #timers: TimerHeap;
  readonly #schedule: { initialRetryDelayMs: number; maxRetryDelayMs: number; maxRetryAfterMs: number; stallTimeoutMs: number };
  readonly #notFoundRecheckMs: number;
  readonly #rooms = new Map<string, Room>();
  #reflector: Reflector | undefined;
  /** Reflectors stopping (the last room left); a new one may run beside them. */
  readonly #stopping = new Set<Promise<void>>();

  constructor(options: AgonesSourceOptions) {
    if (typeof options.transport !== "object" || options.transport === null) throw new ConfigError("transport is required (see kubeTransport in room-watcher/agones)");
    this.#transport = options.transport;
    this.server = options.transport.server;
    this.namespace = validateNamespace(options.namespace ?? DEFAULT_NAMESPACE);
    const activeWhen = resolveActiveWhen(options.activeWhen);
    if (options.portName !== undefined && (typeof options.portName !== "string" || options.portName === "")) throw new ConfigError("portName must be a non-empty string");
    if (options.addressType !== undefined && (typeof options.addressType !== "string" || options.addressType === "")) throw new ConfigError("addressType must be a non-empty string");
    this.#mapping = { activeWhen, portName: options.portName, addressType: options.addressType };
    const initialRetryDelayMs = validateDurationMs("initialRetryDelayMs", options.initialRetryDelayMs ?? DEFAULT_INITIAL_RETRY_DELAY_MS, { allowZero: false });
    const maxRetryDelayMs = validateDurationMs("maxRetryDelayMs", options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS, { allowZero: false });
    if (maxRetryDelayMs < initialRetryDelayMs) throw new ConfigError("maxRetryDelayMs must not be below initialRetryDelayMs");
    this.#schedule = {
      initialRetryDelayMs,
      maxRetryDelayMs,
      maxRetryAfterMs: validateDurationMs("maxRetryAfterMs", options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS),
      stallTimeoutMs: validateDurationMs("stallTimeoutMs", options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, { allowZero: false }),
    };
    this.#notFoundRecheckMs = validateDurationMs("notFoundRecheckMs", options.notFoundRecheckMs ?? DEFAULT_NOT_FOUND_RECHECK_MS, { allowZero: false });
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#timers = new TimerHeap(this.#clock);
    // Sources that would say different things of the same GameServer must not share a feed.
    const mapping = JSON.stringify([activeWhen, this.#mapping.portName ?? null, this.#mapping.addressType ?? null]);
    this.key = `agones:${this.server}:${this.namespace}:${transportIdentity(options.transport)}:${mapping}`;
  }

  /** Timers pending (rechecks, backoff, the watchdog): 0 once every room has left and the reflector stopped. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Whether a reflector is running (some room is watched). */
  get watching(): boolean {
    return this.#reflector !== undefined;
  }

  checkRoomId(roomId: string): void {
    validateGameServerName(roomId);
  }

  target(roomId: string): SourceTarget {
    return { name: "the Kubernetes API", url: `${this.server}/apis/agones.dev/v1/namespaces/${this.namespace}/gameservers/${encodeURIComponent(roomId)}`, app: this.namespace };
  }

  subscribe(roomId: string, listener: SourceListener): { unsubscribe(): Promise<void> } {
    validateGameServerName(roomId);
    let room = this.#rooms.get(roomId);
    if (room !== undefined) {
      room.listeners.add(listener);
      if (room.last !== undefined) listener.onResult(room.last.result, room.last.at);
    } else {
      room = { name: roomId, listeners: new Set([listener]), last: undefined, recheck: undefined };
      this.#rooms.set(roomId, room);
      const reflector = this.#ensureReflector();
      if (reflector.synced) this.#tellFromCache(room, this.#clock.now());
    }
    const joined = room;
    let done: Promise<void> | undefined;
    return {
      unsubscribe: () => {
        done ??= this.#leave(joined, listener);
        return done;
      },
    };
  }

  /** Stops everything: every room's listener is dropped without a verdict. Resolves once nothing runs. */
  async close(): Promise<void> {
    for (const room of this.#rooms.values()) room.recheck?.cancel();
    this.#rooms.clear();
    await this.#stopReflector();
  }

  async #leave(room: Room, listener: SourceListener): Promise<void> {
    room.listeners.delete(listener);
    if (room.listeners.size > 0 || this.#rooms.get(room.name) !== room) return;
    room.recheck?.cancel();
    room.recheck = undefined;
    this.#rooms.delete(room.name);
    if (this.#rooms.size === 0) await this.#stopReflector();
  }

  async #stopReflector(): Promise<void> {
    const reflector = this.#reflector;
    this.#reflector = undefined;
    if (reflector !== undefined) {
      const stopping = reflector.stop();
      this.#stopping.add(stopping);
      await stopping;
      this.#stopping.delete(stopping);
    }
    await Promise.all([...this.#stopping]);
  }

  #ensureReflector(): Reflector {
    if (this.#reflector !== undefined) return this.#reflector;
    const observer: ReflectorObserver = {
      onSynced: (at) => {
        if (this.#reflector !== reflector) return;
        for (const room of this.#rooms.values()) if (reflector.get(room.name) === undefined && room.recheck === undefined) this.#tellFromCache(room, at);
      },
      onChange: (change, at) => {
        if (this.#reflector === reflector) this.#changed(change, at);
      },
      onFailure: (failure) => {
        if (this.#reflector === reflector) for (const room of [...this.#rooms.values()]) this.#failTransiently(room, failure);
      },
      onFatal: (error, at) => {
        if (this.#reflector !== reflector) return;
        // Nothing more will come for these rooms; a room subscribed later starts a new reflector.
        this.#reflector = undefined;
        const rooms = [...this.#rooms.values()];
        this.#rooms.clear();
        for (const room of rooms) {
          room.recheck?.cancel();
          for (const listener of [...room.listeners]) listener.onFatal(error, at);
        }
      },
    };
    const reflector = new Reflector(
      { namespace: this.namespace, transport: this.#transport, clock: this.#clock, timers: this.#timers, random: this.#random, ...this.#schedule },
      observer,
    );
    this.#reflector = reflector;
    reflector.start();
    return reflector;
  }

  #changed(change: CacheChange, at: number): void {
    const room = this.#rooms.get(change.entry.name);
    if (room === undefined) return;
    room.recheck?.cancel();
    room.recheck = undefined;
    if (change.type === "delete") {
      this.#tell(room, deletedObservation(change.entry.kind === "object" ? change.entry.object.status?.state : undefined), at);
      return;
    }
    this.#tellEntry(room, change.entry, at);
  }

  #tellFromCache(room: Room, at: number): void {
    const entry = this.#reflector?.get(room.name);
    if (entry !== undefined) {
      this.#tellEntry(room, entry, at);
      return;
    }
    // Scheduled before telling: a listener that leaves as it hears this (its grace ran out) cancels it.
    room.recheck = this.#timers.after(this.#notFoundRecheckMs, () => {
      room.recheck = undefined;
      if (this.#rooms.get(room.name) === room && this.#reflector?.synced === true) this.#tellFromCache(room, this.#clock.now());
    });
    this.#tell(room, { observation: { kind: "not_found" }, warnings: [] }, at);
  }

  #tellEntry(room: Room, entry: GameServerEntry, at: number): void {
    if (entry.kind === "invalid") {
      this.#failTransiently(room, { error: entry.error, attempt: 1, nextDelayMs: 0, at });
      return;
    }
    let result: PollResult;
    try {
      result = observeGameServer(entry.object, this.#mapping);
    } catch (error) {
      if (error instanceof InvalidPayloadError) {
        this.#failTransiently(room, { error, attempt: 1, nextDelayMs: 0, at });
        return;
      }
      // A port name or address type this GameServer does not have: waiting will not bring it.
      this.#rooms.delete(room.name);
      for (const listener of [...room.listeners]) listener.onFatal(error, at);
      if (this.#rooms.size === 0) void this.#stopReflector();
      return;
    }
    this.#tell(room, result, at);
  }

  #tell(room: Room, result: PollResult, at: number): void {
    room.last = { result, at };
    for (const listener of [...room.listeners]) listener.onResult(result, at);
  }

  #failTransiently(room: Room, failure: TransientFailure): void {
    const frozen = Object.isFrozen(failure) ? failure : Object.freeze(failure);
    for (const listener of [...room.listeners]) listener.onTransientFailure(frozen);
  }
}
