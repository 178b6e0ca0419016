/**
 * The shared mode's leases: exactly one instance polls each room, the one holding its lease (its
 * instance id with a TTL in Redis). Claims (take, renew or check; see CLAIM_LUA) asked for in one turn
 * go out together in batches; a round of claims runs every third of the lease TTL (jittered), so an
 * owner renews two or three times per TTL; and a follower told how long the owner's lease has left
 * claims again the moment it lapses, so a dead owner's rooms are taken over one lease TTL after its
 * last renewal at most. What a claim's answer means for the room is the directory's to decide.
 */
import type { Clock } from "../../core/clock.js";
import type { TimerHandle, TimerHeap } from "../../core/timer-heap.js";
import type { GatewayLogger } from "../logging.js";
import type { RedisLink, ScriptCommands } from "./link.js";
import { claimDelayMs, type RedisNames } from "./options.js";
import { ENDED_FINGERPRINT, envelope, EnvelopeKind } from "./scripts.js";

/** Rooms per claim script call: one round trip and one script run for many rooms, short enough not to hold Redis up. */
const CLAIMS_PER_CALL = 100;

/** `idle`; `sent`: a claim is on its way; `again`: and another was asked for meanwhile (only the next answer counts). */
export type ClaimState = "idle" | "sent" | "again";

/** A lease another instance holds on the room: when it lapses (on this instance's clock), and the timer that claims then. */
export interface LapseWatch {
  endsAt: number;
  timer: TimerHandle | undefined;
}

/** What a claim needs of a room, and keeps on it. */
export interface Claimant {
  readonly roomId: string;
  claim: ClaimState;
  lapse: LapseWatch | undefined;
}

/** What a claim carries for a room, read as it leaves. */
export interface ClaimPayload {
  readonly seq: number;
  readonly fingerprint: string;
  /** The view's snapshot to store if it is ahead; "" to store nothing. */
  readonly snapshot: string;
}

/** A claim's answer for one room: whether the lease is ours, what is stored (if not ours to ignore), and how long another's lease has left (-1 if none). */
export interface ClaimReply {
  readonly owned: boolean;
  readonly stored: string | undefined;
  readonly leaseLeftMs: number;
}

export interface RoomLeasesOptions<C extends Claimant> {
  readonly names: RedisNames;
  readonly instanceId: string;
  readonly leaseTtlMs: number;
  readonly stateTtlMs: number;
  readonly link: RedisLink;
  readonly timers: TimerHeap;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: GatewayLogger;
  /** Keeps a command under way in view, so close() can wait for it. */
  readonly track: (promise: Promise<unknown>) => void;
  /** Whether claims may go out now. */
  readonly active: () => boolean;
  /** Whether the claimant is still the room's (it has not left, nor left and come back). */
  readonly current: (claimant: C) => boolean;
  readonly payload: (claimant: C) => ClaimPayload;
  /** A claim's answer (the claim state is still `sent` or `again`). */
  readonly onClaimed: (claimant: C, reply: ClaimReply) => void;
  /** A round of claims is due. */
  readonly onRound: () => void;
  /** The lease another instance held on the room has lapsed: claim it. */
  readonly onLapse: (claimant: C) => void;
}

export class RoomLeases<C extends Claimant> {
  readonly #options: RoomLeasesOptions<C>;
  /** Claims asked for this turn, sent together. */
  #queue: C[] = [];
  #round: TimerHandle | undefined;

  constructor(options: RoomLeasesOptions<C>) {
    this.#options = options;
  }

  /** Claims waiting for the end of the turn. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs a round of claims every third of the lease TTL, jittered, until `stopRounds()`. */
  startRounds(): void {
    this.#round = this.#options.timers.after(claimDelayMs(this.#options.leaseTtlMs, this.#options.random), () => {
      this.#round = undefined;
      this.#options.onRound();
      this.startRounds();
    });
  }

  stopRounds(): void {
    this.#round?.cancel();
    this.#round = undefined;
  }

  /** Claims the room (see CLAIM_LUA); claims asked for in one turn go in batches. Asked while one is on its way: once it answers. */
  claim(claimant: C): void {
    if (claimant.claim !== "idle") {
      claimant.claim = "again";
      return;
    }
    claimant.claim = "sent";
    // The first claim of this turn sends the batch once the turn is over.
    if (this.#queue.push(claimant) === 1) queueMicrotask(() => this.#send());
  }

  /**
   * Another instance holds the room's lease, with `leftMs` to go: claim the room the moment it lapses,
   * so a dead owner's room is taken over one lease TTL after its last renewal at most, not at the next
   * round. One timer per room, armed for the earliest lapse heard of: when a round finds the lease
   * renewed, the timer re-arms itself as it fires rather than being replaced every round.
   */
  watchLapse(claimant: C, leftMs: number): void {
    // Redis keeps a key through its last millisecond (PTTL 0): claim one after, counted from the
    // answer's arrival, which is already later than Redis's reading of the TTL. A claim that still
    // arrives early finds the lease there and is told how long it has left again.
    const endsAt = this.#options.clock.now() + leftMs + 1;
    const watch = (claimant.lapse ??= { endsAt, timer: undefined });
    watch.endsAt = endsAt;
    if (watch.timer !== undefined && watch.timer.dueAt <= endsAt) return;
    watch.timer?.cancel();
    this.#armLapse(claimant, watch, endsAt);
  }

  forgetLapse(claimant: C): void {
    claimant.lapse?.timer?.cancel();
    claimant.lapse = undefined;
  }

  /** Lets go of the room's lease (if ours), telling its followers to claim it (see RELEASE_LUA). */
  release(roomId: string, scripts: ScriptCommands | undefined = this.#options.link.connections?.scripts): void {
    if (scripts === undefined) return;
    const { names, instanceId, leaseTtlMs, logger, link } = this.#options;
    this.#options.track(
      scripts.rwRelease(names.lease(roomId), names.state(roomId), instanceId, names.channel(roomId), envelope(EnvelopeKind.RELEASED, instanceId), leaseTtlMs).catch((error: unknown) => {
        // The lease lapses by itself within its TTL.
        logger.debug({ roomId, error: link.describe(error) }, "could not release a room");
      }),
    );
  }

  #armLapse(claimant: C, watch: LapseWatch, at: number): void {
    watch.timer = this.#options.timers.at(at, () => {
      watch.timer = undefined;
      if (claimant.lapse !== watch || !this.#options.current(claimant)) return;
      if (this.#options.clock.now() < watch.endsAt) {
        this.#armLapse(claimant, watch, watch.endsAt);
        return;
      }
      claimant.lapse = undefined;
      this.#options.onLapse(claimant);
    });
  }

  #send(): void {
    const queue = this.#queue;
    this.#queue = [];
    const { names, instanceId, leaseTtlMs, stateTtlMs, link, logger } = this.#options;
    const scripts = link.usable?.scripts;
    if (scripts === undefined || !this.#options.active()) {
      // The next round, or the reconnection, claims again.
      for (const claimant of queue) claimant.claim = "idle";
      return;
    }
    for (let first = 0; first < queue.length; first += CLAIMS_PER_CALL) {
      const batch = queue.slice(first, first + CLAIMS_PER_CALL);
      const keys: string[] = [];
      const args: Array<string | number> = [instanceId, leaseTtlMs, stateTtlMs, ENDED_FINGERPRINT, envelope(EnvelopeKind.MESSAGE, instanceId)];
      for (const claimant of batch) {
        const payload = this.#options.payload(claimant);
        keys.push(names.lease(claimant.roomId), names.state(claimant.roomId));
        args.push(payload.seq, payload.fingerprint, payload.snapshot, names.channel(claimant.roomId));
      }
      this.#options.track(
        scripts.rwClaim(keys.length, ...keys, ...args).then(
          (replies) => batch.forEach((claimant, k) => this.#options.onClaimed(claimant, replyOf(Array.isArray(replies) ? replies[k] : undefined))),
          (error: unknown) => {
            for (const claimant of batch) {
              claimant.claim = "idle";
              logger.debug({ roomId: claimant.roomId, error: link.describe(error) }, "claim failed");
            }
          },
        ),
      );
    }
  }
}

/** One room's answer in a claim's reply (see CLAIM_LUA): {owned, stored or nil, lease left}. */
function replyOf(reply: unknown): ClaimReply {
  const owned = Array.isArray(reply) && reply[0] === 1;
  const stored = Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : undefined;
  const leaseLeftMs = Array.isArray(reply) && typeof reply[2] === "number" ? reply[2] : -1;
  return { owned, stored, leaseLeftMs };
}
