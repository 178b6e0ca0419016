/**
 * The gateway: one HTTP server carrying the WebSocket endpoint (any path, subprotocol
 * `room-watcher.v1`), `GET /healthz`, `GET /metrics` and `POST /hints/{roomId}`. Every room is
 * watched upstream once, through a fleet and the HTTP source, however many clients subscribe.
 */
import { EventEmitter } from "eventemitter3";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { type Clock, systemClock } from "../core/clock.js";
import { Urgency } from "../core/request-scheduler.js";
import { TimerHeap, type TimerHandle } from "../core/timer-heap.js";
import { ConfigError } from "../core/errors.js";
import { HathoraHttpSource } from "../providers/hathora/http-source.js";
import type { PollingSource } from "../core/source.js";
import { validateDurationMs, validateToken } from "../core/validate.js";
import { Fleet } from "../watch/fleet.js";
import { DEFAULT_NOT_FOUND_GRACE_MS, type PollOptions, resolvePollOptions } from "../watch/options.js";
import { GatewayConnection } from "./connection.js";
import { HINT_PATH_PREFIX } from "../protocol/hints.js";
import { HintEndpoint } from "./hints.js";
import { type GatewayLimits, type ResolvedGatewayLimits, resolveGatewayLimits } from "./limits.js";
import { type GatewayLogger, silentLogger } from "./logging.js";
import { GatewayMetrics } from "./metrics.js";
import { OriginPolicy } from "./origin.js";
import { encodeServerMessage, GATEWAY_SUBPROTOCOL } from "../protocol/messages.js";
import { GatewayCloseCode } from "../protocol/close-codes.js";
import type { GatewayRedisOptions, RedisLinkState } from "./redis/options.js";
import { LocalRoomDirectory, type RoomDirectory } from "./room-directory.js";
import { RoomHub } from "./room-hub.js";
import { TokenCheck } from "./token.js";
import { CountingSource } from "./upstream.js";
import { UpstreamHealth } from "./upstream-health.js";

/** The gateway's floor between two looks at a room (hints bring looks forward, never closer than this). */
export const DEFAULT_GATEWAY_MIN_POLL_INTERVAL_MS = 25;

/** How long close() lets clients answer the going-away close before it drops them. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

/** Longest Gateway.start waits for the upstream probe's answer; a slower one is judged when it comes. */
export const PROBE_WAIT_MS = 1_000;

/**
 * The room the start-up probe asks about: a valid id no Hathora room has (theirs are short), so a
 * correct upstream answers 404, and anything else that fails says the upstream is wrong or down.
 */
export const PROBE_ROOM_ID = "room-watcher-gateway-start-up-probe";

export interface GatewayOptions {
  /** Base URL of the rooms API to watch (Hathora or compatible). Required unless `source`. */
  upstream?: string | undefined;
  /** The application whose rooms clients subscribe to. Required unless `source`. */
  appId?: string | undefined;
  /** Bearer token for the upstream (connection info needs none). Never logged. Printable ASCII, no space at either end. */
  upstreamToken?: string | undefined;
  /** Poll this source instead of the Hathora HTTP API built from `upstream` and `appId`. */
  source?: PollingSource | undefined;
  /** Port to listen on. Default 0 (any free port). */
  port?: number | undefined;
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string | undefined;
  /**
   * Token clients must present as `Authorization: Bearer <token>` (all of it, spaces inside included); others
   * are closed with 4401. Printable ASCII, no space at either end, or start rejects. Default none (open).
   */
  token?: string | undefined;
  /** Token game servers present with readiness hints (same rules as `token`). Default none: hints are refused. */
  hintToken?: string | undefined;
  /**
   * Web pages (origins such as "https://play.example.com") whose browsers may connect; a handshake with any
   * other `Origin` is refused with 403. Clients that send no Origin (servers, the CLI) are not affected.
   * Default none: any page may connect (the client token, if set, still applies).
   */
  allowedOrigins?: readonly string[] | undefined;
  /** Frame, subscription, connection, buffer and heartbeat limits. */
  limits?: GatewayLimits | undefined;
  /** How the upstream is polled: the watcher's options and defaults, but a 25 ms `minPollIntervalMs`. */
  pollOptions?: PollOptions | undefined;
  /** A 404 this soon after the gateway starts watching a room means "not there yet". Default 5,000 ms. */
  notFoundGraceMs?: number | undefined;
  /** The fleet to poll through. Default a new one (64 requests in flight). */
  fleet?: Fleet | undefined;
  /** Structured logs. Default none; the CLI logs JSON lines to stderr. */
  logger?: GatewayLogger | undefined;
  /** Include Node's default process metrics at /metrics. Default true. */
  defaultMetrics?: boolean | undefined;
  /** How long close() waits for clients to acknowledge the going-away close. Default 5,000 ms. */
  shutdownGraceMs?: number | undefined;
  /** Time source for heartbeats and shutdown. Default the system clock. */
  clock?: Clock | undefined;
  /**
   * At start, ask the upstream once about a room that cannot exist (through the fleet's budget, waiting
   * at most 1,000 ms for the answer), so a wrong or dead upstream is logged and shows on /healthz at once.
   * Default true.
   */
  probeUpstream?: boolean | undefined;
  /**
   * Shared mode: gateways on one Redis (a `redis://` or `rediss://` URL, or options) share one upstream
   * watch per room, and a subscriber on any of them is served. Default none: this instance alone, in memory.
   */
  redis?: string | GatewayRedisOptions | undefined;
}

/**
 * What /healthz says: `ok`; `degraded` while most of the latest upstream requests fail or (shared mode)
 * Redis is disconnected, each cause in `reasons`; `draining` once close() has begun.
 */
export interface GatewayHealth {
  readonly status: "ok" | "degraded" | "draining";
  /** Why it is not ok, e.g. "redis: disconnected"; empty when ok. */
  readonly reasons: readonly string[];
}

/** Counts, for tests and /healthz. */
export interface GatewayStats {
  readonly connections: number;
  readonly subscriptions: number;
  readonly rooms: number;
  /** Rooms this instance watches upstream: all of `rooms` alone, its share of them in shared mode. */
  readonly ownedRooms: number;
  /** Upstream requests sent so far. */
  readonly upstreamRequests: number;
}

/** A connection the gateway closed (slow consumer, protocol violation, unauthorized, limit, shutdown). */
export interface GatewayClosingEvent {
  readonly connectionId: number | undefined;
  readonly code: number;
  readonly reason: string;
}

/** Shared mode: the gateway's link to Redis changed (see `RedisLinkState`). */
export interface GatewayRedisEvent {
  readonly state: RedisLinkState;
  /** Rooms with subscribers here at the time. */
  readonly rooms: number;
}

export interface GatewayEvents {
  closing: [event: GatewayClosingEvent];
  /** Shared mode only: Redis was lost, stayed gone for a lease TTL, came back, or every room has been claimed again since. */
  redis: [event: GatewayRedisEvent];
}

export class Gateway extends EventEmitter<GatewayEvents> {
  /** The WebSocket URL, e.g. "ws://127.0.0.1:41234". */
  readonly url: string;
  /** The same origin over HTTP, for /healthz, /metrics and hints. */
  readonly httpUrl: string;
  readonly port: number;
  /** This instance's name among the gateways sharing a Redis; undefined alone. */
  readonly instanceId: string | undefined;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #hub: RoomHub;
  readonly #directory: RoomDirectory;
  readonly #metrics: GatewayMetrics;
  readonly #upstream: CountingSource;
  readonly #fleet: Fleet;
  readonly #ownsFleet: boolean;
  readonly #limits: ResolvedGatewayLimits;
  readonly #logger: GatewayLogger;
  readonly #token: TokenCheck | undefined;
  readonly #origins: OriginPolicy | undefined;
  readonly #hints: HintEndpoint;
  readonly #timers: TimerHeap;
  readonly #shutdownGraceMs: number;
  readonly #connections = new Set<GatewayConnection>();
  /** Every accepted socket, refused ones included, so close() can end them all. */
  readonly #sockets = new Set<WebSocket>();
  readonly #upstreamHealth: UpstreamHealth;
  #nextConnectionId = 1;
  #heartbeat: TimerHandle | undefined;
  #probe: { readonly controller: AbortController; readonly done: Promise<void> } | undefined;
  /** The probe's 404 did not look like the rooms API's; stands until a room's status is answered. */
  #probeDoubt: { readonly hint: string; readonly answeredBefore: number } | undefined;
  #closing: Promise<void> | undefined;

  private constructor(parts: {
    server: Server;
    wss: WebSocketServer;
    hub: RoomHub;
    directory: RoomDirectory;
    instanceId: string | undefined;
    metrics: GatewayMetrics;
    upstream: CountingSource;
    upstreamHealth: UpstreamHealth;
    fleet: Fleet;
    ownsFleet: boolean;
    limits: ResolvedGatewayLimits;
    logger: GatewayLogger;
    token: TokenCheck | undefined;
    origins: OriginPolicy | undefined;
    hints: HintEndpoint;
    timers: TimerHeap;
    shutdownGraceMs: number;
    url: string;
    httpUrl: string;
    port: number;
  }) {
    super();
    this.#server = parts.server;
    this.#wss = parts.wss;
    this.#hub = parts.hub;
    this.#directory = parts.directory;
    this.instanceId = parts.instanceId;
    this.#metrics = parts.metrics;
    this.#upstream = parts.upstream;
    this.#upstreamHealth = parts.upstreamHealth;
    this.#fleet = parts.fleet;
    this.#ownsFleet = parts.ownsFleet;
    this.#limits = parts.limits;
    this.#logger = parts.logger;
    this.#token = parts.token;
    this.#origins = parts.origins;
    this.#hints = parts.hints;
    this.#timers = parts.timers;
    this.#shutdownGraceMs = parts.shutdownGraceMs;
    this.url = parts.url;
    this.httpUrl = parts.httpUrl;
    this.port = parts.port;
  }

  /** Starts a gateway and resolves once it is listening. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const limits = resolveGatewayLimits(options.limits);
    // A hint is acted on at once: a 25 ms floor between looks at one room, not the watcher's 100 ms.
    const pollOptions = resolvePollOptions({ minPollIntervalMs: DEFAULT_GATEWAY_MIN_POLL_INTERVAL_MS, ...options.pollOptions });
    const notFoundGraceMs = validateDurationMs("notFoundGraceMs", options.notFoundGraceMs ?? DEFAULT_NOT_FOUND_GRACE_MS);
    const shutdownGraceMs = validateDurationMs("shutdownGraceMs", options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
    // A token no header can carry would lock out every client (or game server, or leave every upstream
    // request failing): refused before anything listens.
    const token = options.token === undefined ? undefined : validateToken("token", options.token);
    const hintToken = options.hintToken === undefined ? undefined : validateToken("hintToken", options.hintToken);
    if (options.upstreamToken !== undefined && options.upstreamToken !== "") validateToken("upstreamToken", options.upstreamToken);
    const origins = options.allowedOrigins === undefined ? undefined : new OriginPolicy(options.allowedOrigins);
    const inner = options.source ?? upstreamSource(options);
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    const fleet = options.fleet ?? new Fleet({ clock });

    // The hub and the connection set exist before the metrics that read them.
    const gauges = { connections: () => 0, subscriptions: () => 0, rooms: () => 0, ownedRooms: () => 0, redisConnected: () => false };
    const metrics = new GatewayMetrics(
      {
        connections: () => gauges.connections(),
        subscriptions: () => gauges.subscriptions(),
        rooms: () => gauges.rooms(),
        ownedRooms: () => gauges.ownedRooms(),
        redisConnected: () => gauges.redisConnected(),
      },
      { defaultMetrics: options.defaultMetrics, shared: options.redis !== undefined },
    );
    const upstreamHealth = new UpstreamHealth();
    const upstream = new CountingSource(inner, metrics, (outcome, error) => {
      const notice = upstreamHealth.record(outcome, error, clock.now());
      if (notice !== undefined) logger.warn(notice.fields, notice.message);
    });
    // Changes of the link to Redis are counted at once, and reach the gateway's listeners once it exists.
    const link: { onLink: (state: RedisLinkState, rooms: number) => void } = { onLink: () => {} };
    // Shared mode: Redis is reached (and its client loaded) before anything listens; alone, nothing to reach.
    const shared =
      options.redis === undefined
        ? undefined
        : await connectShared(options.redis, {
            upstreamKey: upstream.key,
            clock,
            logger,
            onLink: (state, rooms) => {
              metrics.redisLink?.inc({ state });
              link.onLink(state, rooms);
            },
          });
    const directory = shared ?? new LocalRoomDirectory();
    const hub = new RoomHub({ fleet, source: upstream, pollOptions, notFoundGraceMs, metrics, logger, directory });
    const hints = new HintEndpoint(hintToken, hub, metrics, logger);
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(GATEWAY_SUBPROTOCOL) ? GATEWAY_SUBPROTOCOL : false),
    });
    // The server exists before the gateway that handles its requests.
    const ref: { gateway?: Gateway } = {};
    const server = createServer((req, res) => {
      if (ref.gateway === undefined) res.writeHead(503).end();
      else ref.gateway.#onRequest(req, res);
    });
    server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (ref.gateway === undefined) socket.destroy();
      else ref.gateway.#onUpgrade(req, socket, head);
    });
    server.on("clientError", (_error, socket) => socket.destroy());
    const host = options.host ?? "127.0.0.1";
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        server.once("error", onError);
        server.listen(options.port ?? 0, host, () => {
          server.off("error", onError);
          resolve();
        });
      });
    } catch (error) {
      await directory.close();
      throw error;
    }
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    const started = new Gateway({
      server,
      wss,
      hub,
      directory,
      instanceId: shared?.instanceId,
      metrics,
      upstream,
      upstreamHealth,
      fleet,
      ownsFleet: options.fleet === undefined,
      limits,
      logger,
      token: token === undefined ? undefined : new TokenCheck(token),
      origins,
      hints,
      timers: new TimerHeap(clock),
      shutdownGraceMs,
      url: `ws://${urlHost}:${port}`,
      httpUrl: `http://${urlHost}:${port}`,
      port,
    });
    ref.gateway = started;
    gauges.connections = () => started.#connections.size;
    gauges.subscriptions = () => hub.subscriptions;
    gauges.rooms = () => hub.rooms;
    gauges.ownedRooms = () => hub.ownedRooms;
    gauges.redisConnected = () => directory.connected;
    link.onLink = (state, rooms) => started.#emitSafely("redis", Object.freeze({ state, rooms }));
    started.#scheduleHeartbeat();
    if (options.probeUpstream !== false) await started.#startProbe();
    logger.info({ url: started.url, upstream: upstream.key, clientAuth: options.token !== undefined, hints: options.hintToken !== undefined }, "gateway listening");
    return started;
  }

  /** As /healthz reports it. */
  get health(): GatewayHealth {
    const reasons: string[] = [];
    const upstream = this.#upstreamHealth.reason;
    if (upstream !== undefined) reasons.push(upstream);
    const doubt = this.#probeDoubt;
    if (doubt !== undefined && this.#upstreamHealth.answered === doubt.answeredBefore) {
      reasons.push(`upstream: the start-up probe's 404 did not come from the rooms API (${doubt.hint})`);
    }
    if (this.#directory.shared && !this.#directory.connected) reasons.push("redis: disconnected");
    if (this.#closing !== undefined) return { status: "draining", reasons: ["draining: the gateway is closing; new connections are refused", ...reasons] };
    return { status: reasons.length === 0 ? "ok" : "degraded", reasons };
  }

  get stats(): GatewayStats {
    return {
      connections: this.#connections.size,
      subscriptions: this.#hub.subscriptions,
      rooms: this.#hub.rooms,
      ownedRooms: this.#hub.ownedRooms,
      upstreamRequests: this.#upstream.requests,
    };
  }

  /** The Prometheus exposition text, as served at /metrics. */
  async metricsText(): Promise<string> {
    return (await this.#metrics.expose()).body;
  }

  /**
   * Graceful shutdown: refuse new WebSocket clients (503) and report draining at /healthz, close every
   * client with 1001 (going away), give them `shutdownGraceMs` to answer, drop the rest, stop every
   * upstream watch, stop listening. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#logger.info({ connections: this.#connections.size }, "shutting down");
    this.#heartbeat?.cancel();
    this.#heartbeat = undefined;
    this.#probe?.controller.abort();
    // The listener stays open while clients answer the going-away close: /healthz says draining (503),
    // so a balancer sends new clients elsewhere, and a new WebSocket handshake gets a 503 (#onUpgrade).
    for (const connection of this.#connections) connection.close(GatewayCloseCode.GOING_AWAY, "gateway shutting down");
    const sockets = [...this.#sockets];
    const allClosed = Promise.all(sockets.map((ws) => (ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise<void>((resolve) => ws.once("close", () => resolve())))));
    let grace: TimerHandle | undefined;
    await Promise.race([allClosed, new Promise<void>((resolve) => (grace = this.#timers.after(this.#shutdownGraceMs, resolve)))]);
    grace?.cancel();
    for (const ws of this.#sockets) ws.terminate();
    await allClosed;
    const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await this.#probe?.done;
    await this.#hub.close();
    await this.#directory.close();
    if (this.#ownsFleet) await this.#fleet.close();
    this.#wss.close();
    this.#server.closeAllConnections();
    await serverClosed;
    this.#logger.info({}, "gateway closed");
  }

  #emitClosing(connectionId: number | undefined, code: number, reason: string): void {
    this.#emitSafely("closing", Object.freeze({ connectionId, code, reason }));
  }

  #emitSafely<K extends keyof GatewayEvents>(name: K, ...args: GatewayEvents[K]): void {
    try {
      (this.emit as (name: K, ...args: GatewayEvents[K]) => boolean)(name, ...args);
    } catch (error) {
      process.emitWarning(`room-watcher: a "${name}" listener threw: ${error instanceof Error ? error.message : String(error)}`, { code: "RW_LISTENER_THREW" });
    }
  }

  /**
   * One look at a room that cannot exist, in the fleet's budget like any other, judged by the upstream's
   * health as any request is. Resolves on its answer or after PROBE_WAIT_MS, whichever comes first; a
   * slower answer is still judged when it comes, and close() aborts it.
   */
  async #startProbe(): Promise<void> {
    const controller = new AbortController();
    const { scheduler } = this.#fleet;
    const done = (async (): Promise<void> => {
      try {
        await scheduler.acquire(Urgency.FIRST_LOOK, controller.signal);
      } catch {
        return; // aborted by close() before its turn
      }
      try {
        const { hint } = await this.#upstream.poll(PROBE_ROOM_ID, { signal: controller.signal });
        // A 404 that is not the rooms API's (an HTML page, another server's): most likely a wrong URL.
        if (hint !== undefined) {
          this.#probeDoubt = { hint, answeredBefore: this.#upstreamHealth.answered };
          this.#logger.warn({ hint }, `upstream probe: a 404 that did not come from the rooms API: ${hint}`);
        }
      } catch {
        // Counted, judged and logged by the upstream's observer.
      } finally {
        scheduler.release();
      }
    })();
    this.#probe = { controller, done };
    let bound: TimerHandle | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (bound = this.#timers.after(PROBE_WAIT_MS, resolve)))]);
    bound?.cancel();
  }

  #scheduleHeartbeat(): void {
    const intervalMs = this.#limits.heartbeatIntervalMs;
    if (intervalMs === 0 || this.#closing !== undefined) return;
    this.#heartbeat = this.#timers.after(intervalMs, () => {
      for (const connection of this.#connections) connection.heartbeat();
      this.#scheduleHeartbeat();
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && path === "/healthz") {
      const health = this.health;
      const cluster = this.#directory.shared ? { instanceId: this.instanceId, redis: this.#directory.connected ? "up" : "down" } : {};
      // Degraded stays 200: every gateway on the same upstream is degraded alike, and a balancer that
      // pulled them all would turn a slow upstream into no service. Draining is 503: route elsewhere.
      json(res, health.status === "draining" ? 503 : 200, { ...health, ...this.stats, ...cluster });
      return;
    }
    if (req.method === "GET" && path === "/metrics") {
      this.#metrics.expose().then(
        ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
        () => json(res, 500, { message: "metrics unavailable" }),
      );
      return;
    }
    if (req.method === "POST" && path.startsWith(HINT_PATH_PREFIX)) {
      this.#hints.handle(req, res, path.slice(HINT_PATH_PREFIX.length));
      return;
    }
    req.resume();
    json(res, 404, { message: "not found" });
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    if (this.#closing !== undefined) {
      refuse(socket, 503, "gateway shutting down");
      return;
    }
    if (this.#origins !== undefined && !this.#origins.allows(req.headers.origin)) {
      this.#metrics.protocolErrors.inc({ code: "origin" });
      this.#logger.info({ remote: req.socket.remoteAddress }, "refused a handshake from a page of an origin not allowed");
      refuse(socket, 403, "origin not allowed");
      return;
    }
    const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    if (!offered.includes(GATEWAY_SUBPROTOCOL)) {
      this.#metrics.protocolErrors.inc({ code: "subprotocol" });
      refuse(socket, 400, `offer the WebSocket subprotocol ${GATEWAY_SUBPROTOCOL}`);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, req));
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    this.#sockets.add(ws);
    // ws reports oversize frames and bad framing as errors before it closes (1009, 1002); never let them throw.
    ws.on("error", (error) => this.#logger.debug({ error: error.message }, "connection error"));
    ws.once("close", () => this.#sockets.delete(ws));
    if (this.#closing !== undefined) {
      ws.close(GatewayCloseCode.GOING_AWAY, "gateway shutting down");
      return;
    }
    if (this.#token !== undefined && !this.#token.matchesHeader(req.headers.authorization)) {
      this.#metrics.closes.inc({ code: String(GatewayCloseCode.UNAUTHORIZED) });
      this.#logger.info({ remote: req.socket.remoteAddress }, "refused a client without a valid token");
      ws.close(GatewayCloseCode.UNAUTHORIZED, "unauthorized");
      this.#emitClosing(undefined, GatewayCloseCode.UNAUTHORIZED, "unauthorized");
      return;
    }
    if (this.#connections.size >= this.#limits.maxConnections) {
      this.#metrics.closes.inc({ code: String(GatewayCloseCode.TRY_AGAIN_LATER) });
      ws.close(GatewayCloseCode.TRY_AGAIN_LATER, "too many connections");
      this.#emitClosing(undefined, GatewayCloseCode.TRY_AGAIN_LATER, "too many connections");
      return;
    }
    const connection = new GatewayConnection(this.#nextConnectionId++, ws, {
      hub: this.#hub,
      limits: this.#limits,
      metrics: this.#metrics,
      logger: this.#logger,
      onClosing: (code, reason) => this.#emitClosing(connection.id, code, reason),
    });
    this.#connections.add(connection);
    ws.once("close", (code) => {
      this.#connections.delete(connection);
      this.#hub.removeSubscriber(connection);
      this.#logger.debug({ connection: connection.id, code }, "connection closed");
    });
    connection.send(
      encodeServerMessage({
        type: "welcome",
        protocol: GATEWAY_SUBPROTOCOL,
        heartbeatIntervalMs: this.#limits.heartbeatIntervalMs,
        maxSubscriptionsPerConnection: this.#limits.maxSubscriptionsPerConnection,
      }),
      "welcome",
      undefined,
    );
  }
}

/** The shared room directory, its options checked before its Redis client is loaded. */
async function connectShared(
  redis: string | GatewayRedisOptions,
  parts: { upstreamKey: string; clock: Clock; logger: GatewayLogger; onLink: (state: RedisLinkState, rooms: number) => void },
): Promise<RoomDirectory & { readonly instanceId: string }> {
  const { resolveRedisOptions } = await import("./redis/options.js");
  const resolved = resolveRedisOptions(redis);
  const { RedisRoomDirectory } = await import("./redis/directory.js");
  return RedisRoomDirectory.connect({ ...parts, redis: resolved });
}

function upstreamSource(options: GatewayOptions): PollingSource {
  if (options.upstream === undefined || options.appId === undefined) {
    throw new ConfigError("the gateway needs upstream and appId (or a source)");
  }
  return new HathoraHttpSource({ baseUrl: options.upstream, appId: options.appId, token: options.upstreamToken });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

function refuse(socket: Socket, status: number, message: string): void {
  const text = JSON.stringify({ message });
  const statusText = status === 400 ? "Bad Request" : status === 403 ? "Forbidden" : "Service Unavailable";
  socket.end(`HTTP/1.1 ${status} ${statusText}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}
