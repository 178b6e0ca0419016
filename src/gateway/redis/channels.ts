/**
 * The shared mode's channels: a Redis pub/sub channel per room, subscribed only while this instance has
 * subscribers of the room, and what travels on it as envelopes (`scripts.ts`): an owner's message
 * (published with the room's state, under its lease, by one script), a release, a readiness hint.
 * SUBSCRIBE and UNSUBSCRIBE asked for in one turn go out together, in batches.
 */
import type { GatewayLogger } from "../logging.js";
import { parseServerMessage } from "../../protocol/messages.js";
import type { PublishedMessage } from "../room-directory.js";
import type { RedisLink } from "./link.js";
import type { RedisNames } from "./options.js";
import { envelope, EnvelopeKind, openEnvelope } from "./scripts.js";

/** Channels per SUBSCRIBE or UNSUBSCRIBE command. */
const CHANNELS_PER_COMMAND = 1_000;

/** What arrived on a room's channel from another instance. */
export type ChannelNews =
  | { readonly kind: "message"; readonly message: PublishedMessage }
  /** The owner let go of the room. */
  | { readonly kind: "released" }
  /** Someone asked the owner to look at the room now. */
  | { readonly kind: "hint" };

/** The state a change leaves in Redis: `set` the room's view, `end` its tombstone, `none` nothing (a failure). */
export interface StoredChange {
  readonly mode: "set" | "end" | "none";
  readonly seq: number;
  readonly fingerprint: string;
  readonly snapshot: string;
}

export interface RoomChannelsOptions<T> {
  readonly names: RedisNames;
  readonly instanceId: string;
  readonly leaseTtlMs: number;
  readonly stateTtlMs: number;
  readonly link: RedisLink;
  readonly logger: GatewayLogger;
  /** Keeps a command under way in view, so close() can wait for it. */
  readonly track: (promise: Promise<unknown>) => void;
  /** Whether SUBSCRIBE and UNSUBSCRIBE may go out now. */
  readonly active: () => boolean;
  /** Who a SUBSCRIBE is for, as it leaves; undefined if nobody is (left since it was asked for). */
  readonly holderOf: (roomId: string) => T | undefined;
  /** SUBSCRIBE acknowledged for these holders (each may have left or been replaced since). */
  readonly onSubscribed: (holders: readonly T[]) => void;
  /** News on a room's channel, from another instance. */
  readonly onNews: (roomId: string, news: ChannelNews) => void;
}

export class RoomChannels<T> {
  readonly #options: RoomChannelsOptions<T>;
  readonly #toSubscribe = new Set<string>();
  readonly #toUnsubscribe = new Set<string>();
  /** Rooms whose channel Redis has acknowledged subscribing to (and no UNSUBSCRIBE has been sent since). */
  readonly #subscribed = new Set<string>();
  #flushQueued = false;

  constructor(options: RoomChannelsOptions<T>) {
    this.#options = options;
  }

  /** Whether SUBSCRIBE or UNSUBSCRIBE commands are waiting for the end of the turn. */
  get flushQueued(): boolean {
    return this.#flushQueued;
  }

  /**
   * Subscribes to the room's channel. True if it is subscribed already (left and came back before the
   * UNSUBSCRIBE went out): no SUBSCRIBE is sent, so no acknowledgement will come.
   */
  join(roomId: string): boolean {
    if (this.#toUnsubscribe.delete(roomId) && this.#subscribed.has(roomId)) return true;
    // (Or its SUBSCRIBE is still on its way: that one was for the holder that left, so send another.)
    this.#toSubscribe.add(roomId);
    this.#queueFlush();
    return false;
  }

  /** Unsubscribes from the room's channel (or never subscribes, if the SUBSCRIBE has not gone out). */
  leave(roomId: string): void {
    if (this.#toSubscribe.delete(roomId)) return;
    this.#toUnsubscribe.add(roomId);
    this.#queueFlush();
  }

  /** Asks for SUBSCRIBE again (a claim round found the room not subscribed, or Redis came back). */
  resubscribe(roomIds: Iterable<string>): void {
    for (const roomId of roomIds) this.#toSubscribe.add(roomId);
    if (this.#toSubscribe.size > 0) this.#queueFlush();
  }

  /** The holder was acknowledged (see onSubscribed): the channel counts as subscribed. */
  acknowledged(roomId: string): void {
    this.#subscribed.add(roomId);
  }

  /** Redis came back: whatever was subscribed is gone, and nothing is left to unsubscribe. */
  forgetSubscriptions(): void {
    this.#toUnsubscribe.clear();
    this.#subscribed.clear();
  }

  /**
   * Stores the state a change leaves and fans the change out, in one script under the lease (see
   * PUBLISH_LUA). Resolves true if published, false if the lease is not ours any more; rejects if Redis failed.
   */
  async publish(roomId: string, encoded: string, stored: StoredChange): Promise<boolean> {
    const scripts = this.#options.link.usable?.scripts;
    if (scripts === undefined) throw new Error("Redis is not reached");
    const { names, instanceId, leaseTtlMs, stateTtlMs } = this.#options;
    const reply = await scripts.rwPublish(
      names.lease(roomId),
      names.state(roomId),
      instanceId,
      leaseTtlMs,
      stateTtlMs,
      names.channel(roomId),
      envelope(EnvelopeKind.MESSAGE, instanceId, encoded),
      stored.mode,
      stored.seq,
      stored.fingerprint,
      stored.snapshot,
    );
    return reply !== 0;
  }

  /** Passes a readiness hint to the room's owner, whichever instance it is; false if Redis is not reached. */
  hint(roomId: string): boolean {
    const command = this.#options.link.usable?.command;
    if (command === undefined) return false;
    this.#options.track(
      command.publish(this.#options.names.channel(roomId), envelope(EnvelopeKind.HINT, this.#options.instanceId)).catch((error: unknown) => {
        this.#options.logger.debug({ roomId, error: this.#options.link.describe(error) }, "could not pass a hint on");
      }),
    );
    return true;
  }

  /** A message on a subscribed channel: news of one of our rooms from another instance, or nothing. */
  onMessage(channel: string, text: string): void {
    const { names, instanceId, logger, holderOf, onNews } = this.#options;
    const roomId = names.roomOf(channel);
    if (roomId === undefined || holderOf(roomId) === undefined) return;
    const opened = openEnvelope(text);
    if (opened === undefined || opened.from === instanceId) return;
    switch (opened.kind) {
      case EnvelopeKind.MESSAGE: {
        const parsed = parseServerMessage(opened.payload);
        if (!parsed.ok || !("roomId" in parsed.message) || parsed.message.roomId !== roomId) {
          logger.warn({ roomId }, "ignored a malformed message on a room's channel");
          return;
        }
        const message = parsed.message;
        if (message.type === "update" || message.type === "ended" || message.type === "failure" || message.type === "snapshot") {
          onNews(roomId, { kind: "message", message });
        }
        return;
      }
      case EnvelopeKind.RELEASED:
        onNews(roomId, { kind: "released" });
        return;
      case EnvelopeKind.HINT:
        onNews(roomId, { kind: "hint" });
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
    const { link, names, logger, track, holderOf, onSubscribed } = this.#options;
    const subscriber = link.usable?.subscriber;
    if (subscriber === undefined || !this.#options.active()) return;
    const leaving = [...this.#toUnsubscribe];
    this.#toUnsubscribe.clear();
    for (let i = 0; i < leaving.length; i += CHANNELS_PER_COMMAND) {
      const rooms = leaving.slice(i, i + CHANNELS_PER_COMMAND);
      for (const roomId of rooms) this.#subscribed.delete(roomId);
      track(
        subscriber.unsubscribe(...rooms.map((roomId) => names.channel(roomId))).catch((error: unknown) => {
          logger.debug({ error: link.describe(error) }, "unsubscribe failed");
        }),
      );
    }
    // The holders the SUBSCRIBE is for: an acknowledgement counts only for a holder still there.
    const joining: Array<{ roomId: string; holder: T }> = [];
    for (const roomId of this.#toSubscribe) {
      const holder = holderOf(roomId);
      if (holder !== undefined) joining.push({ roomId, holder });
    }
    this.#toSubscribe.clear();
    for (let i = 0; i < joining.length; i += CHANNELS_PER_COMMAND) {
      const batch = joining.slice(i, i + CHANNELS_PER_COMMAND);
      track(
        subscriber.subscribe(...batch.map(({ roomId }) => names.channel(roomId))).then(
          () => onSubscribed(batch.map(({ holder }) => holder)),
          // The reconnection, or the next claim round, subscribes them again.
          (error: unknown) => logger.debug({ error: link.describe(error) }, "subscribe failed"),
        ),
      );
    }
  }
}
