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
import { Redis, type RedisOptions } from "ioredis";
import type { Clock } from "../../core/clock.js";
import { observationKey } from "../../core/observation.js";
import { redactSecrets } from "../../core/redact.js";
import { TimerHeap, type TimerHandle } from "../../core/timer-heap.js";
import { ClusterError } from "../../core/errors.js";
import type { GatewayLogger } from "../logging.js";
import { type EndedMessage, parseServerMessage, type SnapshotMessage } from "../../protocol/messages.js";
import type { PublishedMessage, RoomDirectory, RoomDirectoryListener, RoomRecord } from "../room-directory.js";
import { claimDelayMs, reconnectDelayMs, RedisNames, type RedisLinkState, type ResolvedRedisOptions } from "./options.js";
import { CLAIM_LUA, ENDED_FINGERPRINT, envelope, EnvelopeKind, openEnvelope, PUBLISH_LUA, RELEASE_LUA } from "./scripts.js";

/** Channels per SUBSCRIBE or UNSUBSCRIBE command. */
const CHANNELS_PER_COMMAND = 1_000;
/** Rooms per claim script call: one round trip and one script run for many rooms, short enough not to hold Redis up. */
const CLAIMS_PER_CALL = 100;
/** How long close() waits for Redis to acknowledge QUIT before dropping the connection. */
const QUIT_GRACE_MS = 2_000;

interface ScriptCommands {
  /** numberOfKeys, then the keys (lease and state per room), then the arguments (see CLAIM_LUA). */
  rwClaim(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  rwPublish(
    lease: string,
    state: string,
    me: string,
    leaseTtlMs: number,
    stateTtlMs: number,
    channel: string,
    envelope: string,
    mode: "set" | "end" | "none",
    seq: number,
    fingerprint: string,
    snapshot: string,
  ): Promise<unknown>;
  rwRelease(lease: string, state: string, me: string, channel: string, envelope: string, handoffTtlMs: number): Promise<unknown>;
}

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
  readonly #command: Redis;
  readonly #scripts: ScriptCommands;
  readonly #subscriber: Redis;
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
  #up = true;
  /** Redis has been gone for a lease TTL: every room here is watched by this instance alone. */
  #alone = false;
  #tick: TimerHandle | undefined;
  #aloneTimer: TimerHandle | undefined;
  /** Pending reconnection of each connection, and how many attempts since it was last ready. */
  readonly #reconnects = new Map<Redis, TimerHandle>();
  readonly #reconnectAttempts = new Map<Redis, number>();
  /** Rooms not yet claimed since the last reconnection; undefined when none is under way. */
  #resyncing: Set<string> | undefined;
  readonly #onLink: (state: RedisLinkState, rooms: number) => void;
  readonly #random: () => number;
  #closing: Promise<void> | undefined;

  private constructor(options: RedisRoomDirectoryOptions, command: Redis, subscriber: Redis, timers: TimerHeap) {
    this.#options = options.redis;
    this.instanceId = options.redis.instanceId;
    this.#names = new RedisNames(options.redis.keyPrefix, options.upstreamKey);
    this.#command = command;
    this.#scripts = command as unknown as ScriptCommands;
    this.#subscriber = subscriber;
    this.#logger = options.logger;
    this.#timers = timers;
    this.#clock = options.clock;
    this.#leaseTtlMs = options.redis.leaseTtlMs;
    this.#stateTtlMs = 3 * options.redis.leaseTtlMs;
    this.#onLink = options.onLink ?? (() => {});
    this.#random = options.random ?? Math.random;
  }

  /** Connects to Redis (two connections: commands, and pub/sub) and starts the lease timer. Rejects with ClusterError. */
  static async connect(options: RedisRoomDirectoryOptions): Promise<RedisRoomDirectory> {
    const { redis, logger } = options;
    const timers = new TimerHeap(options.clock);
    // ioredis's own constructor types clash on `replyMapping` under exactOptionalPropertyTypes.
    const base: Omit<RedisOptions, "replyMapping"> = {
      lazyConnect: true,
      // Fail fast while disconnected: a command queued now and run after a reconnection could write
      // a stale state. What failed is redone by the claims that follow every reconnection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      connectTimeout: redis.connectTimeoutMs,
      connectionName: `room-watcher-gateway-${redis.instanceId}`,
      // The directory reconnects on its own clock (see #reconnectLater): ioredis's own reconnection
      // timer cannot be driven by a test's clock, and cancelling it (disconnect) leaves a timer behind.
      retryStrategy: () => null,
    };
    // No auto-pipelining: ioredis keeps one auto-pipeline in flight per connection and holds the next
    // (a change to publish, say) until it returns. Claims are batched here instead (CLAIMS_PER_CALL).
    const command = new Redis(redis.url, base);
    const subscriber = new Redis(redis.url, base);
    // Errors also arrive as events; unheard, ioredis would print them. The close handlers act on them.
    const describe = (error: unknown): string => redactSecrets(error instanceof Error ? error.message : String(error), redis.secrets);
    let firstError: string | undefined;
    for (const client of [command, subscriber]) {
      client.on("error", (error) => {
        firstError ??= describe(error);
        logger.debug({ error: describe(error), redis: redis.safeUrl }, "redis connection error");
      });
    }
    // The claim takes a batch of rooms: its number of keys comes with each call.
    command.defineCommand("rwClaim", { lua: CLAIM_LUA });
    command.defineCommand("rwPublish", { numberOfKeys: 2, lua: PUBLISH_LUA });
    command.defineCommand("rwRelease", { numberOfKeys: 2, lua: RELEASE_LUA });
    let timeout: TimerHandle | undefined;
    try {
      await Promise.race([
        Promise.all([command.connect(), subscriber.connect()]),
        new Promise<never>((_resolve, reject) => {
          timeout = timers.after(redis.connectTimeoutMs, () => reject(new Error(`no answer within ${redis.connectTimeoutMs} ms`)));
        }),
      ]);
    } catch (error) {
      // An ended client has no socket: disconnect() would only leave ioredis's 2 s timer behind.
      for (const client of [command, subscriber]) if (client.status !== "end") client.disconnect();
      throw new ClusterError(`could not reach Redis at ${redis.safeUrl}: ${firstError ?? describe(error)}`);
    } finally {
      timeout?.cancel();
    }
    const directory = new RedisRoomDirectory(options, command, subscriber, timers);
    directory.#start();
    logger.info({ redis: redis.safeUrl, instance: redis.instanceId, leaseTtlMs: redis.leaseTtlMs }, "shared mode: rooms are shared through Redis");
    return directory;
  }

  /** Whether both connections to Redis are up. */
  get connected(): boolean {
    return this.#up;
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
    if (entry === undefined || !this.#up || this.#closing !== undefined) return;
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
      this.#scripts
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
    if (!this.#up || this.#closing !== undefined) return false;
    this.#track(
      this.#command.publish(this.#names.channel(roomId), envelope(EnvelopeKind.HINT, this.instanceId)).catch((error: unknown) => {
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
    for (const reconnect of this.#reconnects.values()) reconnect.cancel();
    this.#reconnects.clear();
    for (const entry of this.#entries.values()) {
      this.#forgetLease(entry);
      if (entry.role === "owner" && this.#up) this.#release(entry.roomId);
    }
    this.#entries.clear();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await Promise.all([this.#quit(this.#command), this.#quit(this.#subscriber)]);
    this.#logger.info({ instance: this.instanceId }, "left the shared mode");
  }

  async #quit(client: Redis): Promise<void> {
    // Ended (lost, and not reconnecting now): no socket, nothing to close.
    if (client.status === "end") return;
    const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
    if (client.status === "ready") {
      const grace = this.#timers.after(QUIT_GRACE_MS, () => client.disconnect());
      await client.quit().catch(() => client.disconnect());
      grace.cancel();
    } else {
      // Connecting: its socket closes, and the client ends.
      client.disconnect();
    }
    await ended;
  }

  #start(): void {
    this.#subscriber.on("message", (channel: string, text: string) => this.#onMessage(channel, text));
    for (const client of [this.#command, this.#subscriber]) {
      client.on("close", () => this.#onConnectionLost());
      client.on("end", () => this.#reconnectLater(client));
      client.on("ready", () => {
        this.#reconnectAttempts.delete(client);
        this.#onConnectionReady();
      });
    }
    this.#scheduleTick();
  }

  /** A connection ended (ioredis does not retry): try again after a capped, jittered backoff. */
  #reconnectLater(client: Redis): void {
    if (this.#closing !== undefined) return;
    const attempt = (this.#reconnectAttempts.get(client) ?? 0) + 1;
    this.#reconnectAttempts.set(client, attempt);
    this.#reconnects.get(client)?.cancel();
    this.#reconnects.set(
      client,
      this.#timers.after(reconnectDelayMs(attempt, this.#options.reconnectMaxDelayMs, this.#random), () => {
        this.#reconnects.delete(client);
        // A failed attempt ends the client again, and "end" brings us back here.
        if (this.#closing === undefined) client.connect().catch(() => {});
      }),
    );
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
    if (!this.#up || this.#closing !== undefined) return;
    for (const entry of this.#entries.values()) {
      if (entry.subscribed) this.#claim(entry);
      else this.#toSubscribe.add(entry.roomId);
    }
    if (this.#toSubscribe.size > 0) this.#queueFlush();
  }

  /** Claims the room (see CLAIM_LUA); claims asked for in one turn go in batches. */
  #claim(entry: Entry): void {
    if (!entry.subscribed || !this.#up || this.#closing !== undefined) return;
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
    if (!this.#up || this.#closing !== undefined) {
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
        this.#scripts.rwClaim(keys.length, ...keys, ...args).then(
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
      if (owned && this.#entries.get(entry.roomId) === undefined && this.#up) this.#release(entry.roomId);
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

  #release(roomId: string): void {
    const names = this.#names;
    this.#track(
      this.#scripts
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
    if (!this.#up || this.#closing !== undefined) return;
    const leaving = [...this.#toUnsubscribe];
    this.#toUnsubscribe.clear();
    for (let i = 0; i < leaving.length; i += CHANNELS_PER_COMMAND) {
      const rooms = leaving.slice(i, i + CHANNELS_PER_COMMAND);
      for (const roomId of rooms) this.#subscribed.delete(roomId);
      this.#track(
        this.#subscriber.unsubscribe(...rooms.map((roomId) => this.#names.channel(roomId))).catch((error: unknown) => {
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
        this.#subscriber.subscribe(...entries.map((entry) => this.#names.channel(entry.roomId))).then(
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
    if (!this.#up || this.#closing !== undefined) return;
    this.#up = false;
    this.#resyncing = undefined;
    this.#logger.warn({ redis: this.#options.safeUrl, rooms: this.#entries.size }, "lost Redis; owners keep watching their rooms");
    this.#onLink("lost", this.#entries.size);
    this.#aloneTimer = this.#timers.after(this.#leaseTtlMs, () => {
      this.#aloneTimer = undefined;
      if (this.#up || this.#closing !== undefined) return;
      this.#alone = true;
      this.#logger.warn({ redis: this.#options.safeUrl, rooms: this.#entries.size }, "Redis still gone after a lease TTL; watching every room here alone");
      this.#onLink("alone", this.#entries.size);
      for (const entry of this.#entries.values()) this.#answerAlone(entry);
    });
  }

  #onConnectionReady(): void {
    if (this.#up || this.#closing !== undefined) return;
    if (this.#command.status !== "ready" || this.#subscriber.status !== "ready") return;
    this.#up = true;
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
    return redactSecrets(error instanceof Error ? error.message : String(error), this.#options.secrets);
  }
}

/** What a claim found stored for a room: its snapshot, or the `ended` message of its tombstone; undefined if neither (or not of this room). */
export function parseStored(text: string, roomId: string): SnapshotMessage | EndedMessage | undefined {
  const parsed = parseServerMessage(text);
  if (!parsed.ok || (parsed.message.type !== "snapshot" && parsed.message.type !== "ended") || parsed.message.roomId !== roomId) return undefined;
  return parsed.message;
}
