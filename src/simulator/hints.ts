/**
 * The simulator playing the game servers' part: when a room turns active (the instant its process
 * binds its port), send the gateway a readiness hint, as real game-server code would with
 * sendReadyHint. Needs the simulator's `tickMs`, so transitions happen on time without requests.
 */
import type { ExposedPort } from "../core/observation.js";
import { sendReadyHint } from "../sources/ready-hint.js";
import type { TruthStatus } from "./world.js";

/** Where the simulated game servers send their hints. */
export interface HintTarget {
  /** The gateway's URL (ws:// as printed, or http://). */
  readonly gatewayUrl: string;
  /** The gateway's hint token. */
  readonly token: string;
}

/** Hints sent so far, by outcome. */
export interface HintCounts {
  readonly sent: number;
  readonly accepted: number;
  readonly failed: number;
}

export class GameServerHints {
  #target: HintTarget | undefined;
  #sent = 0;
  #accepted = 0;
  #failed = 0;
  readonly #pending = new Set<Promise<void>>();
  /** Real time (performance.now()) each hint was sent, by room, for benchmarks. */
  readonly sentAt = new Map<string, number>();

  setTarget(target: HintTarget | undefined): void {
    this.#target = target;
  }

  get counts(): HintCounts {
    return { sent: this.#sent, accepted: this.#accepted, failed: this.#failed };
  }

  /** A world transition hook: a room turning active sends one hint. Never throws. */
  readonly onTransition = (roomId: string, status: TruthStatus, _exposedPort: ExposedPort | undefined): void => {
    const target = this.#target;
    if (target === undefined || status !== "active") return;
    this.#sent++;
    this.sentAt.set(roomId, performance.now());
    const sending: Promise<void> = sendReadyHint({ gatewayUrl: target.gatewayUrl, token: target.token, roomId })
      .then(
        () => {
          this.#accepted++;
        },
        () => {
          // A lost hint costs only the head start: the gateway's polling still finds the room.
          this.#failed++;
        },
      )
      .finally(() => this.#pending.delete(sending));
    this.#pending.add(sending);
  };

  /** Resolves once every hint sent so far has been answered or has failed. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
