/**
 * The shared mode's link to Redis: two connections (commands, and pub/sub, which Redis reserves for
 * subscribing once it subscribes), reached at start within a timeout, and each reconnected on the
 * injected clock with capped, jittered backoff when it ends. ioredis is loaded by `connect()`, so a
 * gateway that never shares anything never loads it. What the link carries (leases, channels) and what
 * the cluster does while it is down live elsewhere: the link says when it went down and came back.
 */
import type { Redis, RedisOptions } from "ioredis";
import type { Clock } from "../../core/clock.js";
import { ClusterError, InvalidStateError } from "../../core/errors.js";
import { redactSecrets } from "../../core/redact.js";
import type { TimerHandle, TimerHeap } from "../../core/timer-heap.js";
import type { GatewayLogger } from "../logging.js";
import { reconnectDelayMs, type ResolvedRedisOptions } from "./options.js";
import { CLAIM_LUA, PUBLISH_LUA, RELEASE_LUA } from "./scripts.js";

/** How long close() waits for Redis to acknowledge QUIT before dropping the connection. */
const QUIT_GRACE_MS = 2_000;

/** The scripts of scripts.ts, as ioredis defines them on the command connection. */
export interface ScriptCommands {
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

/** The two connections, once made. */
export interface RedisConnections {
  readonly command: Redis;
  readonly scripts: ScriptCommands;
  readonly subscriber: Redis;
}

/**
 * `created`: nothing reached yet; `connecting`: `connect()` under way; `up`: both connections ready;
 * `down`: one of them lost (reconnections scheduled); `closing`: `close()` is draining, with the
 * connections if they were up; `closed`: both connections closed (or never made).
 */
export type RedisLinkPhase =
  | { readonly phase: "created" }
  | { readonly phase: "connecting" }
  | { readonly phase: "up"; readonly connections: RedisConnections }
  | { readonly phase: "down"; readonly connections: RedisConnections }
  | { readonly phase: "closing"; readonly connections: RedisConnections | undefined }
  | { readonly phase: "closed" };

export interface RedisLinkOptions {
  readonly redis: ResolvedRedisOptions;
  readonly timers: TimerHeap;
  readonly clock: Clock;
  readonly logger: GatewayLogger;
  /** Jitter source (tests pin it). */
  readonly random: () => number;
  /** Both connections are up again after the link went down. */
  readonly onUp: () => void;
  /** A connection was lost (told once per loss, until `onUp`). */
  readonly onDown: () => void;
  /** A subscribed channel's message. */
  readonly onMessage: (channel: string, text: string) => void;
}

export class RedisLink {
  #state: RedisLinkPhase = { phase: "created" };
  readonly #options: RedisLinkOptions;
  /** Pending reconnection of each connection, and how many attempts since it was last ready. */
  readonly #reconnects = new Map<Redis, TimerHandle>();
  readonly #reconnectAttempts = new Map<Redis, number>();

  constructor(options: RedisLinkOptions) {
    this.#options = options;
  }

  get state(): RedisLinkPhase {
    return this.#state;
  }

  /** Whether both connections are up (and the link is not closing). */
  get up(): boolean {
    return this.#state.phase === "up";
  }

  /** The connections while both are up, and while close() drains a link that was up. */
  get usable(): RedisConnections | undefined {
    return this.#state.phase === "up" || this.#state.phase === "closing" ? this.#state.connections : undefined;
  }

  /** The connections once made, until closed (while down, commands on them fail fast rather than queue). */
  get connections(): RedisConnections | undefined {
    const state = this.#state;
    return state.phase === "up" || state.phase === "down" || state.phase === "closing" ? state.connections : undefined;
  }

  /** Loads ioredis and reaches Redis over both connections. Rejects with ClusterError (and leaves nothing behind). */
  async connect(): Promise<void> {
    if (this.#state.phase !== "created") throw new InvalidStateError(`connect() once only: the Redis link is ${this.#state.phase}`);
    this.#state = { phase: "connecting" };
    const { redis, logger, timers } = this.#options;
    const { Redis } = await import("ioredis");
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
      // The link reconnects on its own clock (see #reconnectLater): ioredis's own reconnection
      // timer cannot be driven by a test's clock, and cancelling it (disconnect) leaves a timer behind.
      retryStrategy: () => null,
    };
    // No auto-pipelining: ioredis keeps one auto-pipeline in flight per connection and holds the next
    // (a change to publish, say) until it returns. Claims are batched instead (see leases.ts).
    const command = new Redis(redis.url, base);
    const subscriber = new Redis(redis.url, base);
    // Errors also arrive as events; unheard, ioredis would print them. The close handlers act on them.
    let firstError: string | undefined;
    for (const client of [command, subscriber]) {
      client.on("error", (error) => {
        firstError ??= this.describe(error);
        logger.debug({ error: this.describe(error), redis: redis.safeUrl }, "redis connection error");
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
      this.#state = { phase: "closed" };
      throw new ClusterError(`could not reach Redis at ${redis.safeUrl}: ${firstError ?? this.describe(error)}`);
    } finally {
      timeout?.cancel();
    }
    const connections: RedisConnections = { command, scripts: command as unknown as ScriptCommands, subscriber };
    if (this.#phase() !== "connecting") {
      // Closed while connecting: let go of what was just reached.
      await Promise.all([this.#quit(command), this.#quit(subscriber)]);
      throw new ClusterError(`the Redis link was closed while connecting to ${redis.safeUrl}`);
    }
    this.#state = { phase: "up", connections };
    subscriber.on("message", (channel: string, text: string) => this.#options.onMessage(channel, text));
    for (const client of [command, subscriber]) {
      client.on("close", () => this.#onLost(connections));
      client.on("end", () => this.#reconnectLater(client));
      client.on("ready", () => {
        this.#reconnectAttempts.delete(client);
        this.#onReady(connections);
      });
    }
  }

  /**
   * Cancels every reconnection, lets `drain` use the connections one last time (given them only if the
   * link was up), then closes both (QUIT, then a drop after a grace). Idempotent.
   */
  async close(drain: (connections: RedisConnections | undefined) => Promise<void> = () => Promise.resolve()): Promise<void> {
    const state = this.#state;
    if (state.phase === "closing" || state.phase === "closed") return;
    const usable = state.phase === "up" ? state.connections : undefined;
    this.#state = { phase: "closing", connections: usable };
    for (const reconnect of this.#reconnects.values()) reconnect.cancel();
    this.#reconnects.clear();
    await drain(usable);
    this.#state = { phase: "closed" };
    if (state.phase !== "up" && state.phase !== "down") return;
    await Promise.all([this.#quit(state.connections.command), this.#quit(state.connections.subscriber)]);
  }

  /** The phase, read afresh (not narrowed across an await). */
  #phase(): RedisLinkPhase["phase"] {
    return this.#state.phase;
  }

  /** An error as it may be shown: its message, without the Redis URL's secrets. */
  describe(error: unknown): string {
    return redactSecrets(error instanceof Error ? error.message : String(error), this.#options.redis.secrets);
  }

  #onLost(connections: RedisConnections): void {
    if (this.#state.phase !== "up") return;
    this.#state = { phase: "down", connections };
    this.#options.onDown();
  }

  #onReady(connections: RedisConnections): void {
    if (this.#state.phase !== "down") return;
    if (connections.command.status !== "ready" || connections.subscriber.status !== "ready") return;
    this.#state = { phase: "up", connections };
    this.#options.onUp();
  }

  /** A connection ended (ioredis does not retry): try again after a capped, jittered backoff. */
  #reconnectLater(client: Redis): void {
    if (this.#state.phase === "closing" || this.#state.phase === "closed") return;
    const attempt = (this.#reconnectAttempts.get(client) ?? 0) + 1;
    this.#reconnectAttempts.set(client, attempt);
    this.#reconnects.get(client)?.cancel();
    this.#reconnects.set(
      client,
      this.#options.timers.after(reconnectDelayMs(attempt, this.#options.redis.maxReconnectDelayMs, this.#options.random), () => {
        this.#reconnects.delete(client);
        // A failed attempt ends the client again, and "end" brings us back here.
        if (this.#state.phase !== "closing" && this.#state.phase !== "closed") client.connect().catch(() => {});
      }),
    );
  }

  async #quit(client: Redis): Promise<void> {
    // Ended (lost, and not reconnecting now): no socket, nothing to close.
    if (client.status === "end") return;
    const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
    if (client.status === "ready") {
      const grace = this.#options.timers.after(QUIT_GRACE_MS, () => client.disconnect());
      await client.quit().catch(() => client.disconnect());
      grace.cancel();
    } else {
      // Connecting: its socket closes, and the client ends.
      client.disconnect();
    }
    await ended;
  }
}
