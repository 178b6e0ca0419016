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
 *
 * Its parts, one concept each: the link to Redis (link.ts), the leases (leases.ts) and the channels
 * (channels.ts). This file keeps the rooms this instance has subscribers of, and decides what each
 * claim's answer and each channel's news mean for them.
 */
import type { Clock } from "../../core/clock.js";
import { observationKey } from "../../core/observation.js";
import { TimerHeap, type TimerHandle } from "../../core/timer-heap.js";
import type { GatewayLogger } from "../logging.js";
import { type EndedMessage, parseServerMessage, type SnapshotMessage } from "../../protocol/messages.js";
import type { PublishedMessage, RoomDirectory, RoomDirectoryListener, RoomRecord } from "../room-directory.js";
import { type ChannelNews, RoomChannels } from "./channels.js";
import { type Claimant, type ClaimPayload, type ClaimReply, type ClaimState, type LapseWatch, RoomLeases } from "./leases.js";
import { RedisLink } from "./link.js";
import { RedisNames, type RedisLinkState, type ResolvedRedisOptions } from "./options.js";
import { ENDED_FINGERPRINT } from "./scripts.js";

type Role = "joining" | "owner" | "follower";

/** What the directory knows of a room this instance has subscribers of. */
interface Entry extends Claimant {
  readonly roomId: string;
  role: Role;
  /** `subscribed`: SUBSCRIBE to the room's channel has been acknowledged, so claims may run. */
  channel: "subscribing" | "subscribed";
  claim: ClaimState;
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
  /** The lease another instance holds on this room, as the last claim said. */
  lapse: LapseWatch | undefined;
}

/**
 * The directory's lifecycle: `created` (nothing reached), `linked` (Redis reached; `resyncing` the rooms
 * not claimed again since it came back, undefined when none), `lost` (owners keep polling, followers
 * wait; after a lease TTL, `alone`), `alone` (every room watched here), `closing`.
 */
type SharedState =
  | { readonly phase: "created" }
  | { readonly phase: "linked"; readonly resyncing: Set<string> | undefined }
  | { readonly phase: "lost"; readonly aloneTimer: TimerHandle }
  | { readonly phase: "alone" }
  | { readonly phase: "closing"; readonly closed: Promise<void> };

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
  readonly #link: RedisLink;
  readonly #leases: RoomLeases<Entry>;
  readonly #channels: RoomChannels<Entry>;
  readonly #logger: GatewayLogger;
  readonly #timers: TimerHeap;
  readonly #leaseTtlMs: number;
  readonly #entries = new Map<string, Entry>();
  /** Commands under way, so close() can wait for them. */
  readonly #pending = new Set<Promise<unknown>>();
  readonly #onLink: (state: RedisLinkState, rooms: number) => void;
  #listener: RoomDirectoryListener | undefined;
  #state: SharedState = { phase: "created" };

  /** Builds the directory; nothing is reached before `connect()`. Options are resolved already (resolveRedisOptions). */
  constructor(options: RedisRoomDirectoryOptions) {
    const redis = options.redis;
    this.#options = redis;
    this.instanceId = redis.instanceId;
    this.#logger = options.logger;
    this.#timers = new TimerHeap(options.clock);
    this.#leaseTtlMs = redis.leaseTtlMs;
    this.#onLink = options.onLink ?? (() => {});
    const random = options.random ?? Math.random;
    const names = new RedisNames(redis.keyPrefix, options.upstreamKey);
    // The cached state outlives the lease, so whoever takes over a dead owner's room still finds it.
    const stateTtlMs = 3 * redis.leaseTtlMs;
    const track = (promise: Promise<unknown>): void => this.#track(promise);
    const active = (): boolean => this.#state.phase === "linked";
    this.#link = new RedisLink({
      redis,
      timers: this.#timers,
      clock: options.clock,
      logger: options.logger,
      random,
      onUp: () => this.#onConnectionReady(),
      onDown: () => this.#onConnectionLost(),
      onMessage: (channel, text) => this.#channels.onMessage(channel, text),
    });
    this.#leases = new RoomLeases<Entry>({
      names,
      instanceId: redis.instanceId,
      leaseTtlMs: redis.leaseTtlMs,
      stateTtlMs,
      link: this.#link,
      timers: this.#timers,
      clock: options.clock,
      random,
      logger: options.logger,
      track,
      active,
      current: (entry) => this.#entries.get(entry.roomId) === entry,
      payload: (entry) => this.#claimPayload(entry),
      onClaimed: (entry, reply) => this.#onClaimed(entry, reply),
      onRound: () => this.#claimAll(),
      onLapse: (entry) => this.#claim(entry),
    });
    this.#channels = new RoomChannels<Entry>({
      names,
      instanceId: redis.instanceId,
      leaseTtlMs: redis.leaseTtlMs,
      stateTtlMs,
      link: this.#link,
      logger: options.logger,
      track,
      active,
      holderOf: (roomId) => this.#entries.get(roomId),
      onSubscribed: (entries) => this.#onSubscribed(entries),
      onNews: (roomId, news) => this.#onNews(roomId, news),
    });
  }

  /** A directory, connected. Rejects with ClusterError. */
  static async connect(options: RedisRoomDirectoryOptions): Promise<RedisRoomDirectory> {
    const directory = new RedisRoomDirectory(options);
    await directory.connect();
    return directory;
  }

  /** Connects to Redis (two connections: commands, and pub/sub) and starts the rounds of claims. Rejects with ClusterError. */
  async connect(): Promise<void> {
    await this.#link.connect();
    if (this.#state.phase !== "created") return;
    this.#state = { phase: "linked", resyncing: undefined };
    this.#leases.startRounds();
    this.#logger.info({ redis: this.#options.safeUrl, instance: this.instanceId, leaseTtlMs: this.#leaseTtlMs }, "shared mode: rooms are shared through Redis");
  }

  /** Whether both connections to Redis are up. */
  get connected(): boolean {
    return this.#link.usable !== undefined;
  }

  attach(listener: RoomDirectoryListener): void {
    this.#listener = listener;
  }

  join(roomId: string): void {
    if (this.#state.phase === "closing") return;
    const entry: Entry = {
      roomId,
      role: "joining",
      channel: "subscribing",
      claim: "idle",
      answerDue: true,
      storeDue: false,
      behindSeq: undefined,
      lapse: undefined,
    };
    this.#entries.set(roomId, entry);
    if (this.#channels.join(roomId)) {
      // We left and came back before the UNSUBSCRIBE went out, and the channel is still subscribed.
      entry.channel = "subscribed";
      this.#claim(entry);
    }
    if (this.#state.phase === "alone") this.#answerAlone(entry);
  }

  leave(roomId: string): void {
    const entry = this.#entries.get(roomId);
    if (entry === undefined) return;
    this.#entries.delete(roomId);
    this.#leases.forgetLapse(entry);
    this.#claimedSinceReconnection(roomId);
    this.#channels.leave(roomId);
    // A claim on its way releases what it takes (see #onClaimed).
    if (entry.role === "owner") this.#leases.release(roomId);
  }

  publish(roomId: string, message: PublishedMessage, encoded: string): void {
    const entry = this.#entries.get(roomId);
    if (entry === undefined || this.#state.phase !== "linked") return;
    const mode = message.type === "ended" ? "end" : message.type === "failure" ? "none" : "set";
    // Set: the room's state after the change; end: the tombstone (the ended message); none: nothing.
    const view =
      message.type === "ended"
        ? { seq: message.seq, fingerprint: ENDED_FINGERPRINT, snapshot: encoded }
        : mode === "set"
          ? this.#listener?.view(roomId)
          : undefined;
    this.#track(
      this.#channels.publish(roomId, encoded, { mode, seq: view?.seq ?? 0, fingerprint: view?.fingerprint ?? "", snapshot: view?.snapshot ?? "" }).then(
        (published) => {
          // Not ours any more (we were cut off, and someone took over): the claim says who holds it.
          if (!published && this.#entries.get(roomId) === entry) this.#claim(entry);
        },
        // Redis is gone or failed the write: the claims after it comes back (or the next one) store our state.
        (error: unknown) => {
          entry.storeDue = true;
          this.#logger.debug({ roomId, error: this.#link.describe(error) }, "could not publish a change");
        },
      ),
    );
  }

  refresh(roomId: string): void {
    const entry = this.#entries.get(roomId);
    if (entry === undefined) return;
    entry.answerDue = true;
    if (this.#state.phase === "alone") this.#answerAlone(entry);
    else this.#claim(entry);
  }

  hint(roomId: string): boolean {
    if (this.#state.phase !== "linked") return false;
    return this.#channels.hint(roomId);
  }

  /** Resolves once no command to Redis is under way (what one led to included). For tests. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0 || this.#channels.flushQueued || this.#leases.queued > 0) await Promise.allSettled([...this.#pending, Promise.resolve()]);
  }

  /** Releases every room held, waits for what is under way, and closes both connections. Idempotent. */
  close(): Promise<void> {
    if (this.#state.phase === "closing") return this.#state.closed;
    const before = this.#state;
    const closed = this.#shutdown(before);
    this.#state = { phase: "closing", closed };
    return closed;
  }

  async #shutdown(before: SharedState): Promise<void> {
    this.#leases.stopRounds();
    if (before.phase === "lost") before.aloneTimer.cancel();
    await this.#link.close(async (connections) => {
      for (const entry of this.#entries.values()) {
        this.#leases.forgetLapse(entry);
        if (entry.role === "owner" && connections !== undefined) this.#leases.release(entry.roomId, connections.scripts);
      }
      this.#entries.clear();
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    });
    // Never connected (or failed to): nothing was shared, nothing to leave.
    if (before.phase !== "created") this.#logger.info({ instance: this.instanceId }, "left the shared mode");
  }

  #claimAll(): void {
    if (this.#state.phase !== "linked") return;
    const unsubscribed: string[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.channel === "subscribed") this.#claim(entry);
      else unsubscribed.push(entry.roomId);
    }
    this.#channels.resubscribe(unsubscribed);
  }

  /** Claims the room once its channel is subscribed (so nothing published after the claim's read is missed). */
  #claim(entry: Entry): void {
    if (entry.channel !== "subscribed" || this.#state.phase !== "linked") return;
    this.#leases.claim(entry);
  }

  /** What the claim carries: the view as it is now, when the claim leaves; its snapshot only when it may be stored. */
  #claimPayload(entry: Entry): ClaimPayload {
    const view = this.#listener?.view(entry.roomId);
    const store = entry.answerDue || entry.storeDue;
    entry.storeDue = false;
    return { seq: view?.seq ?? 0, fingerprint: view?.fingerprint ?? "", snapshot: store ? (view?.snapshot ?? "") : "" };
  }

  #onClaimed(entry: Entry, reply: ClaimReply): void {
    const again = entry.claim === "again";
    entry.claim = "idle";
    const owned = reply.owned;
    if (this.#entries.get(entry.roomId) !== entry) {
      // Left while the claim was on its way: let go of what it took.
      if (owned && this.#entries.get(entry.roomId) === undefined && this.#link.usable !== undefined) this.#leases.release(entry.roomId, this.#link.usable.scripts);
      return;
    }
    if (owned || reply.leaseLeftMs < 0) this.#leases.forgetLapse(entry);
    else this.#leases.watchLapse(entry, reply.leaseLeftMs);
    if (again) {
      // Asked again while this claim was on its way (a gap, a release): its answer may predate what
      // prompted that, so only the next one counts.
      this.#claim(entry);
      return;
    }
    this.#claimedSinceReconnection(entry.roomId);
    const text = reply.stored;
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

  #onNews(roomId: string, news: ChannelNews): void {
    const entry = this.#entries.get(roomId);
    if (entry === undefined) return;
    switch (news.kind) {
      case "message":
        this.#listener?.message(roomId, news.message);
        return;
      case "released":
        // The owner let go: take over now rather than at the next round.
        if (entry.role !== "owner") this.#claim(entry);
        return;
      case "hint":
        if (entry.role === "owner") this.#listener?.hinted(roomId);
        return;
    }
  }

  #onSubscribed(entries: readonly Entry[]): void {
    for (const entry of entries) {
      // Left since (its UNSUBSCRIBE follows this SUBSCRIBE on the connection), or left and came back
      // (the new entry's own SUBSCRIBE is on its way).
      if (this.#entries.get(entry.roomId) !== entry || entry.channel === "subscribed") continue;
      this.#channels.acknowledged(entry.roomId);
      // Subscribed first, then the state read: nothing published after the read can be missed.
      entry.channel = "subscribed";
      this.#claim(entry);
    }
  }

  #onConnectionLost(): void {
    if (this.#state.phase !== "linked") return;
    this.#logger.warn({ redis: this.#options.safeUrl, rooms: this.#entries.size }, "lost Redis; owners keep watching their rooms");
    const aloneTimer = this.#timers.after(this.#leaseTtlMs, () => {
      if (this.#state.phase !== "lost") return;
      this.#state = { phase: "alone" };
      this.#logger.warn({ redis: this.#options.safeUrl, rooms: this.#entries.size }, "Redis still gone after a lease TTL; watching every room here alone");
      this.#onLink("alone", this.#entries.size);
      for (const entry of this.#entries.values()) this.#answerAlone(entry);
    });
    this.#state = { phase: "lost", aloneTimer };
    this.#onLink("lost", this.#entries.size);
  }

  #onConnectionReady(): void {
    const state = this.#state;
    if (state.phase !== "lost" && state.phase !== "alone") return;
    if (state.phase === "lost") state.aloneTimer.cancel();
    this.#state = { phase: "linked", resyncing: new Set(this.#entries.keys()) };
    this.#logger.info({ redis: this.#options.safeUrl, rooms: this.#entries.size }, "Redis is back; claiming every room again");
    this.#onLink("back", this.#entries.size);
    // Whatever was said while we were gone is lost: subscribe again, then claim (and so resync) every room.
    this.#channels.forgetSubscriptions();
    for (const entry of this.#entries.values()) {
      entry.channel = "subscribing";
      entry.claim = "idle";
      entry.answerDue = true;
      entry.storeDue = false;
      entry.behindSeq = undefined;
    }
    this.#channels.resubscribe(this.#entries.keys());
    this.#claimedSinceReconnection(undefined);
  }

  /** Counts a room off the claims that follow a reconnection; says so once every room is done. */
  #claimedSinceReconnection(roomId: string | undefined): void {
    const state = this.#state;
    if (state.phase !== "linked" || state.resyncing === undefined) return;
    if (roomId !== undefined) state.resyncing.delete(roomId);
    if (state.resyncing.size > 0) return;
    this.#state = { phase: "linked", resyncing: undefined };
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
}

/** What a claim found stored for a room: its snapshot, or the `ended` message of its tombstone; undefined if neither (or not of this room). */
export function parseStored(text: string, roomId: string): SnapshotMessage | EndedMessage | undefined {
  const parsed = parseServerMessage(text);
  if (!parsed.ok || (parsed.message.type !== "snapshot" && parsed.message.type !== "ended") || parsed.message.roomId !== roomId) return undefined;
  return parsed.message;
}
