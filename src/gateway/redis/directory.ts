/**
 * The shared room directory: gateways on one Redis share one upstream watch per room.
 *
 * - **Ownership** is a lease per room (the owner's instance id with a TTL, taken, renewed and
 *   released by scripts that check it first): exactly one instance polls each room. Every third of the
 *   lease TTL (jittered) one timer per instance claims every room it has subscribers of, in batches:
 *   the owner renews, the others check. A follower's claim also learns how long the owner's lease has
 *   left, and the follower claims again the moment it lapses, so a dead owner's rooms are taken over
 *   one lease TTL after its last renewal at most (plus a round trip to Redis).
 * - **State** (the room's snapshot, sequence number and observation fingerprint) is cached in Redis,
 *   written under the lease in the same script as the change is published (fencing: an owner that
 *   lost its lease can no longer write), so a subscriber on any instance gets a snapshot at once and a
 *   new owner continues the sequence where the last one stopped. An ended room leaves a tombstone for
 *   a lease TTL, so an instance that has not heard of the end concludes the room instead of taking it.
 * - **Fan-out** is Redis pub/sub, a channel per room, subscribed only by instances with subscribers
 *   of it. Pub/sub rather than streams: a room's messages are states, not a log (the latest snapshot
 *   supersedes every update before it), so what pub/sub can lose (only while a connection is down)
 *   is recovered by reading the cached snapshot: on a gap in the sequence numbers, after every
 *   reconnection, and at a routine claim that finds the stored state unlike this instance's (if merely
 *   ahead, only when the next claim still does: its messages may be on their way over the other
 *   connection). Streams would add per-room logs to trim and a blocking reader over thousands of keys.
 * - **Without Redis** (connection lost), owners keep polling and serve their own subscribers; after a
 *   lease TTL every instance watches its rooms alone, as the in-memory gateway does. Connections are
 *   retried with capped, jittered backoff on the injected clock. Once Redis is back every room is
 *   claimed again: one owner per room, and the others resync from its state.
 */
import type { Clock } from "../../core/clock.js";
import { observationKey } from "../../core/observation.js";
import { TimerHeap, type TimerHandle } from "../../core/timer-heap.js";
import type { GatewayLogger } from "../logging.js";
import { type EndedMessage, parseServerMessage, type SnapshotMessage } from "../../protocol/messages.js";
import type { PublishedMessage, RoomDirectory, RoomDirectoryListener, RoomRecord } from "../room-directory.js";
import { RedisLink } from "./link.js";
import { claimDelayMs, RedisNames, type RedisLinkState, type ResolvedRedisOptions } from "./options.js";
import { ENDED_FINGERPRINT, envelope, EnvelopeKind, openEnvelope } from "./scripts.js";

/** Channels per SUBSCRIBE or UNSUBSCRIBE command. */
const CHANNELS_PER_COMMAND = 1_000;
/** Rooms per claim script call: one round trip and one script run for many rooms, short enough not to hold Redis up. */
const CLAIMS_PER_CALL = 100;
type Role = "joining" | "owner" | "follower";

/** What the directory knows of a room this instance has subscribers of. */
interface Entry {
  readonly roomId: string;
  role: Role;
  /** SUBSCRIBE to the room's channel has been acknowledged: claims may run. */
  subscribed: boolean;
  /** A claim is on its way. */
  claiming: boolean;
  /** Another claim was asked for while one was on its way. */
  again: boolean;
  /** The hub waits for an answer (joining, or resyncing after a gap) whatever the claim says. */
  answerDue: boolean;
  /** A write of this room's state failed: the next claim carries the view's snapshot, to store it if it is ahead. */
  storeDue: boolean;
  /**
   * A routine claim found the stored state ahead of this follower: the sequence number stored then.
   * Not acted on at once, since the owner's messages up to it may still be on their way (they come
   * over the other connection); if the next claim finds this follower still short of it, it resyncs.
   */
  behindSeq: number | undefined;
  /** When the lease another instance holds on this room lapses (on this instance's clock), as the last claim said. */
  leaseEndsAt: number | undefined;
  /** Claims the room once that lease has lapsed; re-arms itself if a later claim found the lease renewed. */
  lapseClaim: TimerHandle | undefined;
}

export interface RedisRoomDirectoryOptions {
  readonly redis: ResolvedRedisOptions;
  /** The upstream's source key: gateways of different upstreams keep apart. */
  readonly upstreamKey: string;
  readonly clock: Clock;
  readonly logger: GatewayLogger;
  /** Told each change of the link to Redis, with the rooms this instance has subscribers of. */
  readonly onLink?: ((state: RedisLinkState, rooms: number) => void) | undefined;
  /** Jitter source (tests pin it). Default Math.random. */
  readonly random?: (() => number) | undefined;
}

export class RedisRoomDirectory implements RoomDirectory {
  readonly shared = true;
  readonly instanceId: string;
  readonly #options: ResolvedRedisOptions;
  readonly #names: RedisNames;
  readonly #link: RedisLink;
  readonly #logger: GatewayLogger;
  readonly #timers: TimerHeap;
  readonly #clock: Clock;
  readonly #leaseTtlMs: number;
  /** The cached state outlives the lease, so whoever takes over a dead owner's room still finds it. */
  readonly #stateTtlMs: number;
  readonly #entries = new Map<string, Entry>();
  /** Claims asked for this turn, sent together. */
  #claimQueue: Entry[] = [];
  readonly #toSubscribe = new Set<string>();
  readonly #toUnsubscribe = new Set<string>();
  /** Rooms whose channel Redis has acknowledged subscribing to (and no UNSUBSCRIBE has been sent since). */
  readonly #subscribed = new Set<string>();
  /** Commands under way, so close() can wait for them. */
  readonly #pending = new Set<Promise<unknown>>();
  #listener: RoomDirectoryListener | undefined;
  #flushQueued = false;
  /** Redis has been gone for a lease TTL: every room here is watched by this instance alone. */
  #alone = false;
  #tick: TimerHandle | undefined;
  #aloneTimer: TimerHandle | undefined;
  /** Rooms not yet claimed since the last reconnection; undefined when none is under way. */
  #resyncing: Set<string> | undefined;
  readonly #onLink: (state: RedisLinkState, rooms: number) => void;
  readonly #random: () => number;
  #closing: Promise<void> | undefined;

  /** Builds the directory; nothing is reached before `connect()`. Options are resolved already (resolveRedisOptions). */
  constructor(options: RedisRoomDirectoryOptions) {
    this.#options = options.redis;
    this.instanceId = options.redis.instanceId;
    this.#names = new RedisNames(options.redis.keyPrefix, options.upstreamKey);
    this.#logger = options.logger;
    this.#timers = new TimerHeap(options.clock);
    this.#clock = options.clock;
    this.#leaseTtlMs = options.redis.leaseTtlMs;
    this.#stateTtlMs = 3 * options.redis.leaseTtlMs;
    this.#onLink = options.onLink ?? (() => {});
    this.#random = options.random ?? Math.random;
    this.#link = new RedisLink({
      redis: options.redis,
      timers: this.#timers,
      clock: options.clock,
      logger: options.logger,
      random: this.#random,
      onUp: () => this.#onConnectionReady(),
      onDown: () => this.#onConnectionLost(),
      onMessage: (channel, text) => this.#onMessage(channel, text),
    });
  }

  /** A directory, connected. Rejects with ClusterError. */
  static async connect(options: RedisRoomDirectoryOptions): Promise<RedisRoomDirectory> {
    const directory = new RedisRoomDirectory(options);
    await directory.connect();
    return directory;
  }

  /** Connects to Redis (two connections: commands, and pub/sub) and starts the lease timer. Rejects with ClusterError. */
  async connect(): Promise<void> {
    await this.#link.connect();
    this.#scheduleTick();
    this.#logger.info({ redis: this.#options.safeUrl, instance: this.instanceId, leaseTtlMs: this.#leaseTtlMs }, "shared mode: rooms are shared through Redis");
  }

  /** Whether both connections to Redis are up. */
  get connected(): boolean {
    return this.#link.up;
  }

  attach(listener: RoomDirectoryListener): void {
    this.#listener = listener;
  }

  join(roomId: string): void {
    if (this.#closing !== undefined) return;
    const entry: Entry = {
      roomId,
      role: "joining",
      subscribed: false,
      claiming: false,
      again: false,
      answerDue: true,
      storeDue: false,
      behindSeq: undefined,
      leaseEndsAt: undefined,
      lapseClaim: undefined,
    };
    this.#entries.set(roomId, entry);
    if (this.#toUnsubscribe.delete(roomId) && this.#subscribed.has(roomId)) {
      // We left and came back before the UNSUBSCRIBE went out, and the channel is still subscribed.
      entry.subscribed = true;
      this.#claim(entry);
    } else {
      // (Or its SUBSCRIBE is still on its way: that one was for the entry we left, so send another.)
      this.#toSubscribe.add(roomId);
      this.#queueFlush();
    }
    if (this.#alone) this.#answerAlone(entry);
  }

  leave(roomId: string): void {
    const entry = this.#entries.get(roomId);
    if (entry === undefined) return;
    this.#entries.delete(roomId);
    this.#forgetLease(entry);
    this.#claimedSinceReconnection(roomId);
    if (!this.#toSubscribe.delete(roomId)) {
      this.#toUnsubscribe.add(roomId);
      this.#queueFlush();
    }
    // A claim on its way releases what it takes (see #onClaimed).
    if (entry.role === "owner") this.#release(roomId);
  }

  publish(roomId: string, message: PublishedMessage, encoded: string): void {
    const entry = this.#entries.get(roomId);
    const scripts = this.#link.connections?.scripts;
    if (entry === undefined || scripts === undefined || !this.#link.up || this.#closing !== undefined) return;
    const mode = message.type === "ended" ? "end" : message.type === "failure" ? "none" : "set";
    // Set: the room's state after the change; end: the tombstone (the ended message); none: nothing.
    const view =
      message.type === "ended"
        ? { seq: message.seq, fingerprint: ENDED_FINGERPRINT, snapshot: encoded }
        : mode === "set"
          ? this.#listener?.view(roomId)
          : undefined;
    const names = this.#names;
    this.#track(
      scripts
        .rwPublish(
          names.lease(roomId),
          names.state(roomId),
          this.instanceId,
          this.#leaseTtlMs,
          this.#stateTtlMs,
          names.channel(roomId),
          envelope(EnvelopeKind.MESSAGE, this.instanceId, encoded),
          mode,
          view?.seq ?? 0,
          view?.fingerprint ?? "",
          view?.snapshot ?? "",
        )
        .then(
          (reply) => {
            // Not ours any more (we were cut off, and someone took over): the claim says who holds it.
            if (reply === 0 && this.#entries.get(roomId) === entry) this.#claim(entry);
          },
          // Redis is gone or failed the write: the claims after it comes back (or the next one) store our state.
          (error: unknown) => {
            entry.storeDue = true;
            this.#logger.debug({ roomId, error: this.#describe(error) }, "could not publish a change");
          },
        ),
    );
  }

  refresh(roomId: string): void {
    const entry = this.#entries.get(roomId);
    if (entry === undefined) return;
    entry.answerDue = true;
    if (this.#alone) this.#answerAlone(entry);
    else this.#claim(entry);
  }

  hint(roomId: string): boolean {
    const command = this.#link.connections?.command;
    if (command === undefined || !this.#link.up || this.#closing !== undefined) return false;
    this.#track(
      command.publish(this.#names.channel(roomId), envelope(EnvelopeKind.HINT, this.instanceId)).catch((error: unknown) => {
        this.#logger.debug({ roomId, error: this.#describe(error) }, "could not pass a hint on");
      }),
    );
    return true;
  }

  /** Resolves once no command to Redis is under way (what one led to included). For tests. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0 || this.#flushQueued || this.#claimQueue.length > 0) await Promise.allSettled([...this.#pending, Promise.resolve()]);
  }

  /** Releases every room held, waits for what is under way, and closes both connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#tick?.cancel();
    this.#tick = undefined;
    this.#aloneTimer?.cancel();
    this.#aloneTimer = undefined;
    // Never connected (or failed to): nothing was shared, nothing to leave.
    const linked = this.#link.state.phase === "up" || this.#link.state.phase === "down";
    await this.#link.close(async (connections) => {
      for (const entry of this.#entries.values()) {
        this.#forgetLease(entry);
        if (entry.role === "owner" && connections !== undefined) this.#release(entry.roomId, connections.scripts);
      }
      this.#entries.clear();
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    });
    if (linked) this.#logger.info({ instance: this.instanceId }, "left the shared mode");
  }

  #scheduleTick(): void {
    if (this.#closing !== undefined) return;
    this.#tick = this.#timers.after(claimDelayMs(this.#leaseTtlMs, this.#random), () => {
      this.#tick = undefined;
      this.#claimAll();
      this.#scheduleTick();
    });
  }

  #claimAll(): void {
    if (!this.#link.up || this.#closing !== undefined) return;
    for (const entry of this.#entries.values()) {
      if (entry.subscribed) this.#claim(entry);
      else this.#toSubscribe.add(entry.roomId);
    }
    if (this.#toSubscribe.size > 0) this.#queueFlush();
  }

  /** Claims the room (see CLAIM_LUA); claims asked for in one turn go in batches. */
  #claim(entry: Entry): void {
    if (!entry.subscribed || !this.#link.up || this.#closing !== undefined) return;
    if (entry.claiming) {
      entry.again = true;
      return;
    }
    entry.claiming = true;
    // The first claim of this turn sends the batch once the turn is over.
    if (this.#claimQueue.push(entry) === 1) queueMicrotask(() => this.#sendClaims());
  }

  #sendClaims(): void {
    const queue = this.#claimQueue;
    this.#claimQueue = [];
    const scripts = this.#link.connections?.scripts;
    if (scripts === undefined || !this.#link.up || this.#closing !== undefined) {
      for (const entry of queue) this.#claimFailed(entry, undefined);
      return;
    }
    const names = this.#names;
    for (let first = 0; first < queue.length; first += CLAIMS_PER_CALL) {
      const batch = queue.slice(first, first + CLAIMS_PER_CALL);
      const keys: string[] = [];
      const args: Array<string | number> = [this.instanceId, this.#leaseTtlMs, this.#stateTtlMs, ENDED_FINGERPRINT, envelope(EnvelopeKind.MESSAGE, this.instanceId)];
      for (const entry of batch) {
        // The view as it is now, when the claim leaves.
        const view = this.#listener?.view(entry.roomId);
        const store = entry.answerDue || entry.storeDue;
        entry.storeDue = false;
        keys.push(names.lease(entry.roomId), names.state(entry.roomId));
        args.push(view?.seq ?? 0, view?.fingerprint ?? "", store ? (view?.snapshot ?? "") : "", names.channel(entry.roomId));
      }
      this.#track(
        scripts.rwClaim(keys.length, ...keys, ...args).then(
          (replies) => batch.forEach((entry, k) => this.#onClaimed(entry, Array.isArray(replies) ? replies[k] : undefined)),
          (error: unknown) => {
            for (const entry of batch) this.#claimFailed(entry, error);
          },
        ),
      );
    }
  }

  #claimFailed(entry: Entry, error: unknown): void {
    entry.claiming = false;
    entry.again = false;
    // The next tick, or the reconnection, claims again.
    if (error !== undefined) this.#logger.debug({ roomId: entry.roomId, error: this.#describe(error) }, "claim failed");
  }

  #onClaimed(entry: Entry, reply: unknown): void {
    entry.claiming = false;
    const owned = Array.isArray(reply) && reply[0] === 1;
    if (this.#entries.get(entry.roomId) !== entry) {
      // Left while the claim was on its way: let go of what it took.
      if (owned && this.#entries.get(entry.roomId) === undefined && this.#link.up) this.#release(entry.roomId);
      return;
    }
    const leaseLeftMs = Array.isArray(reply) && typeof reply[2] === "number" ? reply[2] : -1;
    if (owned || leaseLeftMs < 0) this.#forgetLease(entry);
    else this.#watchLease(entry, leaseLeftMs);
    if (entry.again) {
      // Asked again while this claim was on its way (a gap, a release): its answer may predate what
      // prompted that, so only the next one counts.
      entry.again = false;
      this.#claim(entry);
      return;
    }
    this.#claimedSinceReconnection(entry.roomId);
    const text = Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : undefined;
    const found = text === undefined ? undefined : parseStored(text, entry.roomId);
    if (text !== undefined && found === undefined) this.#logger.warn({ roomId: entry.roomId }, "ignored a stored room state that is neither a snapshot nor an end");
    if (found?.type === "ended") {
      // Another instance saw the room end (its message may still be on its way): conclude it here too.
      this.#listener?.ended(entry.roomId, found);
      return;
    }
    const stored = found === undefined ? undefined : { seq: found.seq, result: found.result, at: found.at };
    const role: Role = owned ? "owner" : "follower";
    let answer = entry.answerDue || entry.role !== role;
    if (stored === undefined) entry.behindSeq = undefined;
    else if (!answer) answer = role === "owner" || this.#outOfStep(entry, stored);
    if (!answer) return;
    const before = entry.role;
    entry.role = role;
    entry.answerDue = false;
    entry.behindSeq = undefined;
    if (before !== role && before !== "joining") this.#logger.debug({ roomId: entry.roomId, role }, "room changed hands");
    if (owned) this.#listener?.owned(entry.roomId, stored);
    else this.#listener?.following(entry.roomId, stored);
  }

  /**
   * Whether a follower that a routine claim found out of step with the stored state should resync now.
   * The claim carried the view of when it was sent; what counts is the view now, since the owner's
   * messages (over the other connection) may have arrived meanwhile. In step now: no. Behind: only if
   * the claim before found it behind already and it is still short of what was stored then (see
   * `behindSeq`). Otherwise (ahead, or another state under the same number): at once.
   */
  #outOfStep(entry: Entry, stored: RoomRecord): boolean {
    const view = this.#listener?.view(entry.roomId);
    const seq = view?.seq ?? 0;
    const fingerprint = stored.result === null ? "" : observationKey(stored.result.observation);
    if (stored.seq === seq && fingerprint === (view?.fingerprint ?? "")) {
      entry.behindSeq = undefined;
      return false;
    }
    if (stored.seq <= seq) return true;
    if (entry.behindSeq !== undefined && seq < entry.behindSeq) return true;
    entry.behindSeq = stored.seq;
    return false;
  }

  /**
   * Another instance holds the room's lease, with `leftMs` to go: claim the room the moment it lapses,
   * so a dead owner's room is taken over one lease TTL after its last renewal at most, not at the next
   * round. One timer per room, armed for the earliest lapse heard of: when a round finds the lease
   * renewed, the timer re-arms itself as it fires rather than being replaced every round.
   */
  #watchLease(entry: Entry, leftMs: number): void {
    // Redis keeps a key through its last millisecond (PTTL 0): claim one after, counted from the
    // answer's arrival, which is already later than Redis's reading of the TTL. A claim that still
    // arrives early finds the lease there and is told how long it has left again.
    const endsAt = this.#clock.now() + leftMs + 1;
    entry.leaseEndsAt = endsAt;
    if (entry.lapseClaim !== undefined && entry.lapseClaim.dueAt <= endsAt) return;
    entry.lapseClaim?.cancel();
    this.#armLapseClaim(entry, endsAt);
  }

  #armLapseClaim(entry: Entry, at: number): void {
    entry.lapseClaim = this.#timers.at(at, () => {
      entry.lapseClaim = undefined;
      const endsAt = entry.leaseEndsAt;
      if (endsAt === undefined || this.#entries.get(entry.roomId) !== entry) return;
      if (this.#clock.now() < endsAt) {
        this.#armLapseClaim(entry, endsAt);
        return;
      }
      entry.leaseEndsAt = undefined;
      this.#claim(entry);
    });
  }

  #forgetLease(entry: Entry): void {
    entry.leaseEndsAt = undefined;
    entry.lapseClaim?.cancel();
    entry.lapseClaim = undefined;
  }

  #release(roomId: string, scripts = this.#link.connections?.scripts): void {
    const names = this.#names;
    if (scripts === undefined) return;
    this.#track(
      scripts
        .rwRelease(names.lease(roomId), names.state(roomId), this.instanceId, names.channel(roomId), envelope(EnvelopeKind.RELEASED, this.instanceId), this.#leaseTtlMs)
        .catch((error: unknown) => {
          // The lease lapses by itself within its TTL.
          this.#logger.debug({ roomId, error: this.#describe(error) }, "could not release a room");
        }),
    );
  }

  #onMessage(channel: string, text: string): void {
    const roomId = this.#names.roomOf(channel);
    const entry = roomId === undefined ? undefined : this.#entries.get(roomId);
    if (roomId === undefined || entry === undefined) return;
    const opened = openEnvelope(text);
    if (opened === undefined || opened.from === this.instanceId) return;
    switch (opened.kind) {
      case EnvelopeKind.MESSAGE: {
        const parsed = parseServerMessage(opened.payload);
        if (!parsed.ok || !("roomId" in parsed.message) || parsed.message.roomId !== roomId) {
          this.#logger.warn({ roomId }, "ignored a malformed message on a room's channel");
          return;
        }
        const message = parsed.message;
        if (message.type === "update" || message.type === "ended" || message.type === "failure" || message.type === "snapshot") {
          this.#listener?.message(roomId, message);
        }
        return;
      }
      case EnvelopeKind.RELEASED:
        // The owner let go: take over now rather than at the next tick.
        if (entry.role !== "owner") this.#claim(entry);
        return;
      case EnvelopeKind.HINT:
        if (entry.role === "owner") this.#listener?.hinted(roomId);
        return;
    }
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  /** Sends the SUBSCRIBE and UNSUBSCRIBE commands joins and leaves have asked for, batched. */
  #flush(): void {
    const subscriber = this.#link.connections?.subscriber;
    if (subscriber === undefined || !this.#link.up || this.#closing !== undefined) return;
    const leaving = [...this.#toUnsubscribe];
    this.#toUnsubscribe.clear();
    for (let i = 0; i < leaving.length; i += CHANNELS_PER_COMMAND) {
      const rooms = leaving.slice(i, i + CHANNELS_PER_COMMAND);
      for (const roomId of rooms) this.#subscribed.delete(roomId);
      this.#track(
        subscriber.unsubscribe(...rooms.map((roomId) => this.#names.channel(roomId))).catch((error: unknown) => {
          this.#logger.debug({ error: this.#describe(error) }, "unsubscribe failed");
        }),
      );
    }
    // The entries the SUBSCRIBE is for: an acknowledgement counts only for an entry still there.
    const joining: Entry[] = [];
    for (const roomId of this.#toSubscribe) {
      const entry = this.#entries.get(roomId);
      if (entry !== undefined) joining.push(entry);
    }
    this.#toSubscribe.clear();
    for (let i = 0; i < joining.length; i += CHANNELS_PER_COMMAND) {
      const entries = joining.slice(i, i + CHANNELS_PER_COMMAND);
      this.#track(
        subscriber.subscribe(...entries.map((entry) => this.#names.channel(entry.roomId))).then(
          () => this.#onSubscribed(entries),
          // The reconnection, or the next tick, subscribes them again.
          (error: unknown) => this.#logger.debug({ error: this.#describe(error) }, "subscribe failed"),
        ),
      );
    }
  }

  #onSubscribed(entries: readonly Entry[]): void {
    for (const entry of entries) {
      // Left since (its UNSUBSCRIBE follows this SUBSCRIBE on the connection), or left and came back
      // (the new entry's own SUBSCRIBE is on its way).
      if (this.#entries.get(entry.roomId) !== entry || entry.subscribed) continue;
      this.#subscribed.add(entry.roomId);
      // Subscribed first, then the state read: nothing published after the read can be missed.
      entry.subscribed = true;
      this.#claim(entry);
    }
  }

  #onConnectionLost(): void {
    if (this.#closing !== undefined) return;
    this.#resyncing = undefined;
    this.#logger.warn({ redis: this.#options.safeUrl, rooms: this.#entries.size }, "lost Redis; owners keep watching their rooms");
    this.#onLink("lost", this.#entries.size);
    this.#aloneTimer = this.#timers.after(this.#leaseTtlMs, () => {
      this.#aloneTimer = undefined;
      if (this.#link.up || this.#closing !== undefined) return;
      this.#alone = true;
      this.#logger.warn({ redis: this.#options.safeUrl, rooms: this.#entries.size }, "Redis still gone after a lease TTL; watching every room here alone");
      this.#onLink("alone", this.#entries.size);
      for (const entry of this.#entries.values()) this.#answerAlone(entry);
    });
  }

  #onConnectionReady(): void {
    if (this.#closing !== undefined) return;
    this.#alone = false;
    this.#aloneTimer?.cancel();
    this.#aloneTimer = undefined;
    this.#logger.info({ redis: this.#options.safeUrl, rooms: this.#entries.size }, "Redis is back; claiming every room again");
    this.#onLink("back", this.#entries.size);
    // Whatever was said while we were gone is lost: subscribe again, then claim (and so resync) every room.
    this.#toUnsubscribe.clear();
    this.#subscribed.clear();
    this.#resyncing = new Set(this.#entries.keys());
    for (const entry of this.#entries.values()) {
      entry.subscribed = false;
      entry.claiming = false;
      entry.again = false;
      entry.answerDue = true;
      entry.storeDue = false;
      entry.behindSeq = undefined;
      this.#toSubscribe.add(entry.roomId);
    }
    this.#queueFlush();
    this.#claimedSinceReconnection(undefined);
  }

  /** Counts a room off the claims that follow a reconnection; says so once every room is done. */
  #claimedSinceReconnection(roomId: string | undefined): void {
    const resyncing = this.#resyncing;
    if (resyncing === undefined) return;
    if (roomId !== undefined) resyncing.delete(roomId);
    if (resyncing.size > 0) return;
    this.#resyncing = undefined;
    this.#logger.info({ rooms: this.#entries.size }, "every room claimed again since Redis came back");
    this.#onLink("resynced", this.#entries.size);
  }

  /** Without Redis for a lease TTL, this instance watches the room itself. */
  #answerAlone(entry: Entry): void {
    entry.role = "owner";
    entry.answerDue = false;
    this.#listener?.owned(entry.roomId, undefined);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  #describe(error: unknown): string {
    return this.#link.describe(error);
  }
}

/** What a claim found stored for a room: its snapshot, or the `ended` message of its tombstone; undefined if neither (or not of this room). */
export function parseStored(text: string, roomId: string): SnapshotMessage | EndedMessage | undefined {
  const parsed = parseServerMessage(text);
  if (!parsed.ok || (parsed.message.type !== "snapshot" && parsed.message.type !== "ended") || parsed.message.roomId !== roomId) return undefined;
  return parsed.message;
}
