/**
 * One namespace's GameServers, kept current: list, then watch from the list's resourceVersion, the way
 * client-go's Reflector does [K4] and with what kubernetes-client/javascript's ListWatch lacks:
 * - every watch asks for bookmarks and a server-side timeout random in [300, 600] s, so watches end and
 *   restart spread out, and a quiet namespace still moves the resourceVersion forward;
 * - a 410 (an ERROR event in the stream, or the watch request's own status) relists, and the relist is
 *   diffed against the cache, so a GameServer deleted while we were not watching comes out as a delete;
 * - failures back off (capped, equal jitter, reset by the next list or event; a 429's Retry-After is
 *   honoured); 401 and 403 end it (AccessDeniedError names the RBAC verb);
 * - a watchdog restarts a watch that has said nothing (no event, no bookmark) for `stallTimeoutMs`: the
 *   silent stalls of kubernetes-client/javascript#364 and #958.
 * All waiting is on the injected clock's timer heap.
 */
import { rateLimitDelayMs, retryDelayMs } from "../../core/backoff.js";
import type { Clock } from "../../core/clock.js";
import { NetworkError, RateLimitedError, RoomWatcherError } from "../../core/errors.js";
import type { Warning } from "../../core/observation.js";
import type { TransientFailure } from "../../core/source.js";
import type { TimerHandle, TimerHeap } from "../../core/timer-heap.js";
import { apiError, type ApiVerb, isGone } from "./api-errors.js";
import type { AgonesTransport } from "./transport.js";
import { type GameServerEntry, type GameServerListBody, isExpired, parseGameServerList, parseWatchEvent } from "./wire.js";

/** client-go's watch timeout range: random in [5, 10] minutes. */
export const MIN_WATCH_TIMEOUT_SECONDS = 300;
export const MAX_WATCH_TIMEOUT_SECONDS = 600;
/** client-go's backoff: 800 ms doubling to 30 s. */
export const DEFAULT_INITIAL_RETRY_DELAY_MS = 800;
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
/** An API server sends a bookmark about once a minute: three halves of that without a word is a stall. */
export const DEFAULT_STALL_TIMEOUT_MS = 90_000;
/** A watch that ends this soon with nothing said is a failure, not a normal end (client-go's VeryShortWatchError). */
const VERY_SHORT_WATCH_MS = 1_000;

export interface ReflectorOptions {
  readonly namespace: string;
  readonly transport: AgonesTransport;
  readonly clock: Clock;
  readonly timers: TimerHeap;
  readonly random: () => number;
  readonly initialRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly stallTimeoutMs: number;
}

export type CacheChange = { readonly type: "upsert"; readonly entry: GameServerEntry } | { readonly type: "delete"; readonly entry: GameServerEntry };

/** Why a watch ended and another starts. */
export type WatchRestart = "closed" | "expired" | "stalled";

export interface ReflectorObserver {
  /** A list was applied: the cache holds the whole namespace. */
  onSynced(at: number): void;
  onChange(change: CacheChange, at: number): void;
  /** A failure; the next attempt is in `nextDelayMs`. */
  onFailure(failure: TransientFailure): void;
  /** A failure that retrying cannot mend (401, 403): the reflector has stopped. */
  onFatal(error: RoomWatcherError, at: number): void;
  /** Something outside the documented shapes, tolerated (an unknown event type, a nameless item). */
  onWarning?(warning: Warning | RoomWatcherError, at: number): void;
  onWatchStart?(resourceVersion: string, timeoutSeconds: number, at: number): void;
  onWatchEnd?(why: WatchRestart, at: number): void;
}

class Stalled extends Error {}

/** How one watch ended: its last resourceVersion, and whether it said anything. */
interface WatchOutcome {
  readonly resourceVersion: string;
  readonly ending: WatchRestart;
  readonly heard: boolean;
  readonly durationMs: number;
}

export class Reflector {
  readonly namespace: string;
  readonly #options: ReflectorOptions;
  readonly #observer: ReflectorObserver;
  readonly #cache = new Map<string, GameServerEntry>();
  readonly #stop = new AbortController();
  #synced = false;
  #running: Promise<void> | undefined;
  #failures = 0;

  constructor(options: ReflectorOptions, observer: ReflectorObserver) {
    this.namespace = options.namespace;
    this.#options = options;
    this.#observer = observer;
  }

  /** Whether a list has been applied (a name missing from the cache is then truly absent). */
  get synced(): boolean {
    return this.#synced;
  }

  get(name: string): GameServerEntry | undefined {
    return this.#cache.get(name);
  }

  get size(): number {
    return this.#cache.size;
  }

  start(): void {
    this.#running ??= this.#run(this.#stop.signal);
  }

  /** Ends the list or watch in flight and any wait; resolves once nothing is left running. Idempotent. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error("reflector stopped"));
    await this.#running;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let resourceVersion: string | undefined;
    /** The 410 came on the first watch after a list, with nothing said: relisting at once would loop. */
    let freshList = false;
    while (!signal.aborted) {
      let verb: ApiVerb = "list";
      try {
        if (resourceVersion === undefined) {
          const body = parseGameServerList(await this.#options.transport.list(this.namespace, signal));
          resourceVersion = body.resourceVersion;
          this.#failures = 0;
          freshList = true;
          this.#applyList(body);
        }
        verb = "watch";
        // A stream that fails mid-way resumes from its last event, as client-go's does: not from where it
        // began, which would replay what the cache holds, and never get past a long replay cut now and then.
        const outcome = await this.#watch(resourceVersion, signal, (reached) => (resourceVersion = reached));
        this.#observer.onWatchEnd?.(outcome.ending, this.#options.clock.now());
        resourceVersion = outcome.resourceVersion;
        const wasFresh = freshList;
        freshList = freshList && !outcome.heard;
        if (outcome.ending === "expired") {
          resourceVersion = undefined;
          if (wasFresh && !outcome.heard) await this.#backOff(new NetworkError("the watch answered 410 Gone right after a list"), signal);
        } else if (outcome.ending === "closed" && !outcome.heard && outcome.durationMs < VERY_SHORT_WATCH_MS) {
          await this.#backOff(new NetworkError("the watch ended at once without an event"), signal);
        }
      } catch (error) {
        if (signal.aborted) return;
        if (verb === "watch" && isGone(error)) {
          this.#observer.onWatchEnd?.("expired", this.#options.clock.now());
          const wasFresh = freshList;
          resourceVersion = undefined;
          if (wasFresh) await this.#backOff(error as RoomWatcherError, signal).catch(() => undefined);
          continue;
        }
        const typed = error instanceof RoomWatcherError ? error : new NetworkError(`${verb} failed`, { cause: error });
        if (!typed.retryable) {
          this.#observer.onFatal(typed, this.#options.clock.now());
          return;
        }
        // A garbled stream may have hidden a change: only a list tells the whole truth again.
        if (verb === "watch" && typed.code === "RW_INVALID_PAYLOAD") resourceVersion = undefined;
        try {
          await this.#backOff(typed, signal);
        } catch {
          return;
        }
      }
    }
  }

  /** Reports the failure, then waits out its delay (rejects on stop). */
  async #backOff(error: RoomWatcherError, signal: AbortSignal): Promise<void> {
    this.#failures++;
    const schedule = this.#options;
    const nextDelayMs =
      error instanceof RateLimitedError
        ? rateLimitDelayMs(error.retryAfterMs, this.#failures, schedule, this.#options.random)
        : retryDelayMs(this.#failures, schedule, this.#options.random);
    this.#observer.onFailure(Object.freeze({ error, attempt: this.#failures, nextDelayMs, at: this.#options.clock.now() }));
    await this.#options.timers.sleep(nextDelayMs, signal);
  }

  /** Replaces the cache by the list, telling what changed: a name gone from the list is a delete. */
  #applyList(body: GameServerListBody): void {
    const now = this.#options.clock.now();
    for (const error of body.nameless) this.#observer.onWarning?.(error, now);
    const next = new Map(body.entries.map((entry) => [entry.name, entry]));
    const previous = [...this.#cache.values()];
    this.#cache.clear();
    for (const [name, entry] of next) this.#cache.set(name, entry);
    this.#synced = true;
    for (const old of previous) if (!next.has(old.name)) this.#observer.onChange({ type: "delete", entry: old }, now);
    const before = new Map(previous.map((entry) => [entry.name, entry]));
    for (const entry of next.values()) {
      const old = before.get(entry.name);
      if (old === undefined || old.resourceVersion === undefined || old.resourceVersion !== entry.resourceVersion) this.#observer.onChange({ type: "upsert", entry }, now);
    }
    this.#observer.onSynced(now);
  }

  /** One watch, until the server ends it, a 410, a stall or a stop. Throws on any other failure. */
  async #watch(from: string, stop: AbortSignal, onProgress: (resourceVersion: string) => void): Promise<WatchOutcome> {
    const { clock, timers, stallTimeoutMs, random } = this.#options;
    const startedAt = clock.now();
    const timeoutSeconds = MIN_WATCH_TIMEOUT_SECONDS + Math.floor(random() * (MAX_WATCH_TIMEOUT_SECONDS - MIN_WATCH_TIMEOUT_SECONDS + 1));
    const controller = new AbortController();
    const onStop = (): void => controller.abort(stop.reason);
    // A listener (our own source, failing a room) may have stopped us while the list was being applied.
    if (stop.aborted) onStop();
    else stop.addEventListener("abort", onStop, { once: true });
    let lastHeardAt = startedAt;
    let watchdog: TimerHandle | undefined;
    const arm = (delayMs: number): void => {
      watchdog = timers.after(delayMs, () => {
        const silentMs = clock.now() - lastHeardAt;
        if (silentMs >= stallTimeoutMs) controller.abort(new Stalled());
        else arm(stallTimeoutMs - silentMs);
      });
    };
    arm(stallTimeoutMs);
    let resourceVersion = from;
    let heard = false;
    const outcome = (ending: WatchRestart): WatchOutcome => ({ resourceVersion, ending, heard, durationMs: clock.now() - startedAt });
    try {
      this.#observer.onWatchStart?.(from, timeoutSeconds, startedAt);
      for await (const line of this.#options.transport.watch(this.namespace, from, timeoutSeconds, controller.signal)) {
        const now = clock.now();
        lastHeardAt = now;
        const event = parseWatchEvent(line);
        if (!heard && event.type !== "ERROR") {
          heard = true;
          this.#failures = 0;
        }
        switch (event.type) {
          case "ADDED":
          case "MODIFIED":
            this.#cache.set(event.entry.name, event.entry);
            resourceVersion = event.entry.resourceVersion ?? resourceVersion;
            this.#observer.onChange({ type: "upsert", entry: event.entry }, now);
            break;
          case "DELETED":
            this.#cache.delete(event.entry.name);
            resourceVersion = event.entry.resourceVersion ?? resourceVersion;
            this.#observer.onChange({ type: "delete", entry: event.entry }, now);
            break;
          case "BOOKMARK":
            resourceVersion = event.resourceVersion;
            break;
          case "ERROR":
            if (isExpired(event.status)) return outcome("expired");
            throw apiError(event.status.code ?? 500, event.status, { verb: "watch", namespace: this.namespace });
          case "unknown":
            this.#observer.onWarning?.({ code: "UNKNOWN_STATUS", value: event.value, message: `watch event of undocumented type "${event.value}"` }, now);
            break;
        }
        if (resourceVersion !== from) onProgress(resourceVersion);
        if (controller.signal.aborted) break;
      }
      if (controller.signal.reason instanceof Stalled) return outcome("stalled");
      return outcome("closed");
    } catch (error) {
      if (controller.signal.reason instanceof Stalled && !stop.aborted) return outcome("stalled");
      throw error;
    } finally {
      watchdog?.cancel();
      stop.removeEventListener("abort", onStop);
      // Ends the request if the loop left early (a 410, a throw): nothing of it is left running.
      if (!controller.signal.aborted) controller.abort(new Error("watch ended"));
    }
  }
}
