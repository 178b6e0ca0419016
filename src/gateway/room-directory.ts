/**
 * Where each room's one upstream watch lives, and how what it learns reaches every gateway instance
 * that has subscribers of the room. The hub runs one mechanism whichever directory it is given:
 *
 * - alone (`LocalRoomDirectory`, the default): this instance owns every room it is asked about, and
 *   there is nobody else to tell;
 * - shared (`RedisRoomDirectory`, src/gateway/redis/): one instance per room holds a lease and polls;
 *   it publishes each sequenced change and caches the room's snapshot, and the others follow it.
 */
import type { EndedMessage, ServerMessage, WirePollResult } from "../protocol/messages.js";

/** A room's sequenced state as the cluster keeps it: what a snapshot says. */
export interface RoomRecord {
  readonly seq: number;
  /** null until the first upstream look has answered. */
  readonly result: WirePollResult | null;
  /** When the owner learned it (epoch ms); null with a null result. */
  readonly at: number | null;
}

/** This instance's view of a room, as a claim carries it. */
export interface RoomView {
  readonly seq: number;
  /** What the room was last seen as, in a few characters (`observationKey`); "" while nothing is known. */
  readonly fingerprint: string;
  /** The room's snapshot message, encoded (when read, so read it only to send it); undefined while nothing is known (seq 0, no result). */
  readonly snapshot: string | undefined;
}

/** Messages the owner of a room fans out to the other instances. */
export type PublishedMessage = Extract<ServerMessage, { type: "update" | "ended" | "failure" | "snapshot" }>;

/** What the directory tells the hub, room by room. Calls may come synchronously from `join`. */
export interface RoomDirectoryListener {
  /**
   * This instance holds the room: poll it. `record` is the cluster's state of the room when it
   * differs from this instance's view (adopt it, and resync local subscribers); undefined when not.
   */
  owned(roomId: string, record: RoomRecord | undefined): void;
  /** Another instance holds the room: do not poll it. `record` as for `owned`. */
  following(roomId: string, record: RoomRecord | undefined): void;
  /** A message another instance's watch of the room published. */
  message(roomId: string, message: PublishedMessage): void;
  /** The room has ended (another instance saw it end, and this one may not have heard yet): conclude it, whatever this instance's role. */
  ended(roomId: string, message: EndedMessage): void;
  /** Someone asked the owner to look at the room now (a readiness hint that reached another instance). */
  hinted(roomId: string): void;
  /** This instance's view of the room, or undefined if it has no subscribers of it. */
  view(roomId: string): RoomView | undefined;
}

export interface RoomDirectory {
  /** Whether the directory is shared with other instances. */
  readonly shared: boolean;
  /** Whether the directory reaches whatever it shares through (always, alone). */
  readonly connected: boolean;
  /** Reaches whatever the directory shares through (nothing, alone). Rejects with ClusterError. */
  connect(): Promise<void>;
  /** The hub that hears about rooms; set once, before the first join. */
  attach(listener: RoomDirectoryListener): void;
  /** This instance has subscribers of the room: claim it, or follow whoever holds it. Answers through `owned` or `following`. */
  join(roomId: string): void;
  /** This instance has no subscriber of the room left: release it if held, stop following it. */
  leave(roomId: string): void;
  /**
   * The owner's change (or transient failure) of a room, already sent to local subscribers: cache the
   * room's state (the listener's `view`, after the change) and fan the message out to the other
   * instances. An `ended` message forgets the room.
   */
  publish(roomId: string, message: PublishedMessage, encoded: string): void;
  /** The hub saw a gap in the owner's messages: read the room's state again (answers through `owned`/`following`). */
  refresh(roomId: string): void;
  /** Passes a readiness hint to the room's owner; false if this directory cannot. */
  hint(roomId: string): boolean;
  /** Releases everything held and closes connections; resolves once nothing is left running. */
  close(): Promise<void>;
}

/** One instance alone: it owns every room, and there is nobody to tell. */
export class LocalRoomDirectory implements RoomDirectory {
  readonly shared = false;
  readonly connected = true;
  #listener: RoomDirectoryListener | undefined;

  connect(): Promise<void> {
    return Promise.resolve();
  }

  attach(listener: RoomDirectoryListener): void {
    this.#listener = listener;
  }

  join(roomId: string): void {
    this.#listener?.owned(roomId, undefined);
  }

  leave(): void {}

  publish(): void {}

  /** Alone, nothing can be missed. */
  refresh(roomId: string): void {
    this.#listener?.owned(roomId, undefined);
  }

  hint(): boolean {
    return false;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
