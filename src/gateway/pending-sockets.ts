/**
 * Sockets accepted and not yet a WebSocket connection: a handshake under way, a plain HTTP request
 * (/healthz, /metrics, a hint), or a refused upgrade waiting for its peer to go. Anyone can open
 * them, token or not, so they have limits of their own, below the descriptor limit: so many in all,
 * so many per address, each for at most `handshakeTimeoutMs` to send its headers and be upgraded, and
 * a refused one at most REFUSED_SOCKET_GRACE_MS to take its answer and go.
 */
import type { Socket } from "node:net";
import type { TimerHandle, TimerHeap } from "../core/timer-heap.js";
import type { RefusalReason } from "./metrics.js";

/** How long a refused socket may take to read its answer before it is destroyed. */
export const REFUSED_SOCKET_GRACE_MS = 1_000;

export interface PendingSocketLimits {
  readonly maxPendingSockets: number;
  readonly maxPendingSocketsPerAddress: number;
  readonly handshakeTimeoutMs: number;
}

interface Pending {
  readonly address: string;
  /** The handshake deadline, or a refused socket's grace; undefined while Node serves a plain HTTP request. */
  timer: TimerHandle | undefined;
}

export class PendingSockets {
  readonly #timers: TimerHeap;
  readonly #limits: PendingSocketLimits;
  /** Addresses the per-address limit does not apply to (trusted proxies: everyone's sockets come from them). */
  readonly #exempt: ReadonlySet<string>;
  readonly #onTimeout: () => void;
  readonly #sockets = new Map<Socket, Pending>();
  readonly #byAddress = new Map<string, number>();

  constructor(timers: TimerHeap, limits: PendingSocketLimits, exempt: ReadonlySet<string>, onTimeout: () => void) {
    this.#timers = timers;
    this.#limits = limits;
    this.#exempt = exempt;
    this.#onTimeout = onTimeout;
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Takes a new socket in, with its handshake deadline; or says why it must be destroyed at once. */
  admit(socket: Socket, address: string): RefusalReason | undefined {
    if (this.#sockets.size >= this.#limits.maxPendingSockets) return "pending_limit";
    const fromAddress = this.#byAddress.get(address) ?? 0;
    if (!this.#exempt.has(address) && fromAddress >= this.#limits.maxPendingSocketsPerAddress) return "address_limit";
    const pending: Pending = { address, timer: undefined };
    this.#sockets.set(socket, pending);
    this.#byAddress.set(address, fromAddress + 1);
    pending.timer = this.#timers.after(this.#limits.handshakeTimeoutMs, () => {
      pending.timer = undefined;
      if (!this.#sockets.has(socket)) return;
      this.#onTimeout();
      socket.destroy();
    });
    socket.once("close", () => this.#forget(socket));
    return undefined;
  }

  /** A plain HTTP request's headers came in time: Node's own keep-alive and request timeouts take it from here. */
  requested(socket: Socket): void {
    const pending = this.#sockets.get(socket);
    pending?.timer?.cancel();
    if (pending !== undefined) pending.timer = undefined;
  }

  /** The socket is a WebSocket connection now: it counts against the connection limit instead. */
  upgraded(socket: Socket): void {
    this.#forget(socket);
  }

  /** The socket was refused: it has REFUSED_SOCKET_GRACE_MS to take its answer and go, then it is destroyed. */
  refused(socket: Socket, destroy: () => void = () => socket.destroy()): void {
    const pending = this.#sockets.get(socket);
    if (pending === undefined) return;
    pending.timer?.cancel();
    pending.timer = this.#timers.after(REFUSED_SOCKET_GRACE_MS, () => {
      pending.timer = undefined;
      destroy();
    });
  }

  /** Destroys every pending socket (the gateway is closing). */
  destroyAll(): void {
    for (const socket of [...this.#sockets.keys()]) {
      this.#forget(socket);
      socket.destroy();
    }
  }

  #forget(socket: Socket): void {
    const pending = this.#sockets.get(socket);
    if (pending === undefined) return;
    pending.timer?.cancel();
    this.#sockets.delete(socket);
    const left = (this.#byAddress.get(pending.address) ?? 1) - 1;
    if (left === 0) this.#byAddress.delete(pending.address);
    else this.#byAddress.set(pending.address, left);
  }
}
