/**
 * The gateway: one HTTP server carrying the WebSocket endpoint (any path, subprotocol
 * `room-watcher.v1`), `GET /healthz`, `GET /metrics`, `POST /hints/{roomId}` and (opt-in) the
 * dashboard under `GET /dashboard`. Every room is
 * watched upstream once, through a fleet and the HTTP source, however many clients subscribe.
 */
import { EventEmitter } from "eventemitter3";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { type Clock, systemClock } from "../core/clock.js";
import { ConfigError, InvalidStateError, WebhookError } from "../core/errors.js";
import { Urgency } from "../core/request-scheduler.js";
import { isPushSource, type PushSource, type RoomSource } from "../core/source.js";
import type { WebhookReceiver } from "../core/webhook-receiver.js";
import { TimerHeap, type TimerHandle } from "../core/timer-heap.js";
import { validateDurationMs, validateToken } from "../core/validate.js";
import { GatewayCloseCode } from "../protocol/close-codes.js";
import { encodeServerMessage, GATEWAY_SUBPROTOCOL } from "../protocol/messages.js";
import { HathoraHttpSource } from "../providers/hathora/http-source.js";
import { Fleet } from "../watch/fleet.js";
import { DEFAULT_NOT_FOUND_GRACE_MS, type PollOptions, resolvePollOptions } from "../watch/options.js";
import { admitConnection, admitHandshake, type AdmissionPolicy, handshakeRefusal, offeredProtocols } from "./admission.js";
import { clientAddress, normalizeAddress } from "./client-address.js";
import { GatewayConnection, libraryCloseCode } from "./connection.js";
import { readDescriptorLimit, socketBudget } from "./descriptor-limit.js";
import { KeyedRate } from "./keyed-rate.js";
import { PendingSockets } from "./pending-sockets.js";
import { RefusalLog } from "./refusal-log.js";
import { type GatewayHealth, type GatewayStats, gatewayHealth } from "./health.js";
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, type ResolvedGatewayLimits, resolveGatewayLimits } from "./limits.js";
import { type GatewayLogger, silentLogger } from "./logging.js";
import { GatewayMetrics, type RefusalReason } from "./metrics.js";
import { OriginPolicy } from "./origin.js";
import { RedisRoomDirectory } from "./redis/directory.js";
import { type GatewayRedisOptions, type RedisLinkState, resolveRedisOptions } from "./redis/options.js";
import { LocalRoomDirectory, type RoomDirectory } from "./room-directory.js";
import { RoomHub } from "./room-hub.js";
import { type TicketKey, TicketKeyring } from "./ticket.js";
import { DASHBOARD_PATH, healthzAnswer, hintAnswer, type HttpAnswer, jsonAnswer, metricsAnswer, NOT_FOUND, readHint, routeOf, writeAnswer } from "./routes.js";
import { dashboardJson, type DashboardAssets, loadDashboardAssets } from "./dashboard/assets.js";
import { Dashboard } from "./dashboard/dashboard.js";
import { readSnapshotQuery } from "./dashboard/query.js";
import { buildSnapshot } from "./dashboard/snapshot.js";
import type { PausedEvent } from "../watch/fleet.js";
import { TokenCheck } from "./token.js";
import { CountingSource, ObservedPushSource, type UpstreamObserver } from "./upstream.js";
import { UpstreamHealth } from "./upstream-health.js";

export type { GatewayHealth, GatewayStats } from "./health.js";

/** A webhook names one room: anything larger is not one. */
const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

/** The text of a request body, or undefined once it passes `maxBytes` (the rest is drained, not kept). */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  return size > maxBytes ? undefined : Buffer.concat(chunks).toString("utf8");
}

/** The gateway's floor between two looks at a room (hints bring looks forward, never closer than this). */
export const DEFAULT_GATEWAY_MIN_POLL_INTERVAL_MS = 25;

/** How long a room that ended as not found is answered from memory, without a look. */
export const DEFAULT_NOT_FOUND_MEMORY_MS = 30_000;

/** A readiness hint brings a room's look forward at most once per this interval. */
export const DEFAULT_HINT_INTERVAL_MS = 1_000;

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
  /** Base URL of the rooms API to watch (Hathora or compatible), as a watcher's `baseUrl`. Required unless `source`. */
  baseUrl?: string | undefined;
  /** The application whose rooms clients subscribe to. Required unless `source`. */
  appId?: string | undefined;
  /**
   * Bearer token for the rooms API (connection info needs none), as a watcher's `token`; not the clients'
   * token (that is `clientToken`). Never logged. Printable ASCII, no space at either end. Default none.
   */
  token?: string | undefined;
  /**
   * Watch rooms through this source instead of the Hathora HTTP API built from `baseUrl`, `appId` and
   * `token`: a polling source (Edgegap's, say) or a push source (Agones' namespace watch, which serves
   * every room from one list+watch).
   */
  source?: RoomSource | undefined;
  /** Port to listen on. Default 0 (any free port). */
  port?: number | undefined;
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string | undefined;
  /**
   * Token clients must present as `Authorization: Bearer <token>` (all of it, spaces inside included); others
   * are closed with 4401. Printable ASCII, no space at either end, or the constructor throws. Default none (open).
   */
  clientToken?: string | undefined;
  /**
   * The secret room tickets are signed with (mintTicket): a client that presents a valid ticket (as the
   * subprotocol entry `ticket.<ticket>`) may subscribe to the rooms it names, and no other. Set, a client
   * needs a ticket or `clientToken`. At least 32 characters; never logged. A bare secret's key id is
   * derived from it; `{ secret, keyId }` names it. Default none: tickets are refused (4403).
   */
  ticketSecret?: string | TicketKey | undefined;
  /** During a rotation, the secret tickets were signed with before `ticketSecret`: still accepted. Default none. */
  ticketSecretPrevious?: string | TicketKey | undefined;
  /** Token game servers present with readiness hints (same rules as `clientToken`). Default none: hints are refused. */
  hintToken?: string | undefined;
  /**
   * Hosts that call back when a room changes (Edgegap's webhooks: `edgegapWebhookReceiver(secret)` from
   * `room-watcher/edgegap`). Each call under a receiver's prefix is a hint for its room, as from a game
   * server: one verifying look at a watched room, never a change of state by itself. Default none.
   */
  webhooks?: readonly WebhookReceiver[] | undefined;
  /**
   * Web pages (origins such as "https://play.example.com") whose browsers may connect; a handshake with any
   * other `Origin` is refused with 403. Clients that send no Origin (servers, the CLI) are not affected.
   * Default none: any page may connect (the client token, if set, still applies).
   */
  allowedOrigins?: readonly string[] | undefined;
  /** Frame, subscription, connection, pending-socket, handshake, buffer and heartbeat limits. */
  limits?: GatewayLimits | undefined;
  /**
   * Addresses of proxies in front of the gateway (exact IPs, e.g. "10.0.0.2"): from them X-Forwarded-For
   * names the client, for the per-address limits, and they are exempt from the per-address limit on
   * sockets not yet upgraded. Default none: every client is its peer address, X-Forwarded-For ignored.
   */
  trustedProxies?: readonly string[] | undefined;
  /** Token /metrics requires as `Authorization: Bearer <token>` (same rules as `clientToken`). Default none: /metrics is open. */
  metricsToken?: string | undefined;
  /**
   * Serve a live dashboard at `/dashboard` (rooms by state, connections, the upstream rate against the
   * budget, detection latency, the last events). Its data needs `metricsToken` (it names rooms, which
   * /metrics never does): without one the constructor throws. Default false.
   */
  dashboard?: boolean | undefined;
  /** How long a room that ended as `not_found` is answered from memory, so subscribing it again costs no look. Default 30,000 ms; 0 disables. */
  notFoundMemoryMs?: number | undefined;
  /** A readiness hint brings a room's look forward at most once per this interval (more hints are coalesced). Default 1,000 ms. */
  hintIntervalMs?: number | undefined;
  /** The process's file descriptor limit, that the socket limits must fit under. Default read from the process (/proc/self/limits); unknown elsewhere. */
  descriptorLimit?: number | undefined;
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

/** Where a gateway listens, once it does. */
export interface GatewayAddress {
  /** The WebSocket URL, e.g. "ws://127.0.0.1:41234". */
  readonly url: string;
  /** The same origin over HTTP, for /healthz, /metrics and hints. */
  readonly httpUrl: string;
  readonly port: number;
}

/**
 * A gateway's lifecycle: `created` (every part built, nothing open), `starting` (listen() under way:
 * Redis, the port, the start-up probe), `listening`, `draining` (close() under way: clients are told
 * to go, new ones refused) and `closed` (nothing left running; also after a listen() that failed).
 */
export type GatewayPhase = "created" | "starting" | "listening" | "draining" | "closed";

type GatewayState = (
  | { readonly phase: "created" }
  | { readonly phase: "starting"; readonly started: Promise<void> }
  | { readonly phase: "listening"; readonly address: GatewayAddress }
  | { readonly phase: "draining"; readonly address: GatewayAddress; readonly closed: Promise<void> }
  | { readonly phase: "closed"; readonly address: GatewayAddress | undefined }
) & { readonly phase: GatewayPhase };

export class Gateway extends EventEmitter<GatewayEvents> {
  /** This instance's name among the gateways sharing a Redis; undefined alone. */
  readonly instanceId: string | undefined;
  #state: GatewayState = { phase: "created" };
  readonly #host: string;
  readonly #port: number;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #hub: RoomHub;
  readonly #directory: RoomDirectory;
  readonly #metrics: GatewayMetrics;
  readonly #upstream: RoomSource;
  /** The upstream's request counter; undefined for a push upstream, which sends no request per room. */
  readonly #counting: CountingSource | undefined;
  readonly #upstreamHealth = new UpstreamHealth();
  readonly #fleet: Fleet;
  readonly #ownsFleet: boolean;
  readonly #limits: ResolvedGatewayLimits;
  readonly #admission: AdmissionPolicy;
  readonly #hintToken: TokenCheck | undefined;
  readonly #webhooks: readonly WebhookReceiver[];
  readonly #metricsToken: TokenCheck | undefined;
  /** With the dashboard on: its state, its files, and the token its data needs. */
  readonly #dashboard: { readonly state: Dashboard; readonly assets: DashboardAssets; readonly token: TokenCheck; readonly onPaused: (event: PausedEvent) => void } | undefined;
  readonly #trustedProxies: ReadonlySet<string>;
  readonly #pending: PendingSockets;
  /** Failed authentications (client token, hint token) and 4400 closes per client address. */
  readonly #failedAuths: KeyedRate;
  readonly #hintRate: KeyedRate;
  readonly #refusalLog: RefusalLog;
  /** The descriptor-limit warning, logged when the gateway starts. */
  readonly #budgetWarning: string | undefined;
  readonly #logger: GatewayLogger;
  readonly #timers: TimerHeap;
  /** The time tickets' expiries are judged by. */
  readonly #clock: Pick<Clock, "now">;
  readonly #shutdownGraceMs: number;
  readonly #probeUpstream: boolean;
  readonly #connections = new Set<GatewayConnection>();
  /** Every accepted socket, refused ones included, so close() can end them all. */
  readonly #sockets = new Set<WebSocket>();
  #nextConnectionId = 1;
  #heartbeat: TimerHandle | undefined;
  #probe: { readonly controller: AbortController; readonly done: Promise<void> } | undefined;
  /** The probe's 404 did not look like the rooms API's; stands until a room's status is answered. */
  #probeDoubt: { readonly hint: string; readonly answeredBefore: number } | undefined;

  /**
   * Builds every part of a gateway; nothing listens or connects until `listen()`. Throws ConfigError on
   * an option that can never work (a token no header can carry, a bad duration, limit or Redis URL).
   */
  constructor(options: GatewayOptions) {
    super();
    const limits = resolveGatewayLimits(options.limits);
    // The socket limits must fit under the descriptor limit, or the process runs out of descriptors first.
    const budget = socketBudget(
      options.descriptorLimit ?? readDescriptorLimit(),
      { maxConnections: options.limits?.maxConnections, maxPendingSockets: options.limits?.maxPendingSockets },
      DEFAULT_GATEWAY_LIMITS,
    );
    this.#limits = Object.freeze({ ...limits, maxConnections: budget.maxConnections, maxPendingSockets: budget.maxPendingSockets });
    this.#budgetWarning = budget.warning;
    // A hint is acted on at once: a 25 ms floor between looks at one room, not the watcher's 100 ms.
    const pollOptions = resolvePollOptions({ minPollIntervalMs: DEFAULT_GATEWAY_MIN_POLL_INTERVAL_MS, ...options.pollOptions });
    const notFoundGraceMs = validateDurationMs("notFoundGraceMs", options.notFoundGraceMs ?? DEFAULT_NOT_FOUND_GRACE_MS);
    this.#shutdownGraceMs = validateDurationMs("shutdownGraceMs", options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
    refuseRenamedOptions(options);
    // A token no header can carry would lock out every client (or game server, or leave every upstream
    // request failing): refused before anything listens.
    const clientToken = options.clientToken === undefined ? undefined : validateToken("clientToken", options.clientToken);
    const hintToken = options.hintToken === undefined ? undefined : validateToken("hintToken", options.hintToken);
    const metricsToken = options.metricsToken === undefined ? undefined : validateToken("metricsToken", options.metricsToken);
    this.#metricsToken = metricsToken === undefined ? undefined : new TokenCheck(metricsToken);
    const notFoundMemoryMs = validateDurationMs("notFoundMemoryMs", options.notFoundMemoryMs ?? DEFAULT_NOT_FOUND_MEMORY_MS);
    const hintIntervalMs = validateDurationMs("hintIntervalMs", options.hintIntervalMs ?? DEFAULT_HINT_INTERVAL_MS);
    this.#trustedProxies = new Set((options.trustedProxies ?? []).map((address) => normalizeAddress(address)));
    if (options.token !== undefined && options.token !== "") validateToken("token", options.token);
    this.#hintToken = hintToken === undefined ? undefined : new TokenCheck(hintToken);
    this.#webhooks = options.webhooks ?? [];
    if (options.ticketSecret === undefined && options.ticketSecretPrevious !== undefined) {
      throw new ConfigError("ticketSecretPrevious needs ticketSecret: the previous secret is accepted beside a current one");
    }
    this.#admission = {
      origins: options.allowedOrigins === undefined ? undefined : new OriginPolicy(options.allowedOrigins),
      clientToken: clientToken === undefined ? undefined : new TokenCheck(clientToken),
      tickets: options.ticketSecret === undefined ? undefined : new TicketKeyring(options.ticketSecret, options.ticketSecretPrevious),
      maxConnections: this.#limits.maxConnections,
    };
    const clock = (this.#clock = options.clock ?? systemClock);
    const logger = (this.#logger = options.logger ?? silentLogger);
    this.#timers = new TimerHeap(clock);
    this.#refusalLog = new RefusalLog(clock, logger);
    this.#failedAuths = new KeyedRate(clock, { perMinute: this.#limits.maxFailedAuthsPerMinute, burst: this.#limits.maxFailedAuthsPerMinute });
    this.#hintRate = new KeyedRate(clock, { perMinute: this.#limits.maxHintsPerMinutePerAddress, burst: Math.min(50, this.#limits.maxHintsPerMinutePerAddress) });
    this.#pending = new PendingSockets(this.#timers, this.#limits, this.#trustedProxies, () => this.#refuse("handshake_timeout", undefined));
    this.#host = options.host ?? "127.0.0.1";
    this.#port = options.port ?? 0;
    this.#probeUpstream = options.probeUpstream !== false;
    const inner = options.source ?? upstreamSource(options);
    this.#fleet = options.fleet ?? new Fleet({ clock });
    this.#ownsFleet = options.fleet === undefined;
    if (options.dashboard === true) {
      if (this.#metricsToken === undefined) throw new ConfigError("the dashboard needs a metricsToken: it names rooms, which /metrics never does, so its data is never open");
      const state = new Dashboard(this.#timers, clock, () => ({ requests: this.#counting?.requests ?? 0, pausedUntil: this.#upstreamLimit().pausedUntil }));
      const onPaused = (event: PausedEvent): void => state.onPaused(event.roomId, event.until, event.at);
      this.#dashboard = { state, assets: loadDashboardAssets(), token: this.#metricsToken, onPaused };
      this.#fleet.on("paused", onPaused);
    } else {
      this.#dashboard = undefined;
    }

    // Gauges are read at scrape time, from the parts built below.
    this.#metrics = new GatewayMetrics(
      {
        connections: () => this.#connections.size,
        subscriptions: () => this.#hub.subscriptions,
        rooms: () => this.#hub.rooms,
        ownedRooms: () => this.#hub.ownedRooms,
        redisConnected: () => this.#directory.connected,
        pendingSockets: () => this.#pending.size,
      },
      { defaultMetrics: options.defaultMetrics, shared: options.redis !== undefined },
    );
    const observe: UpstreamObserver = (outcome, error) => {
      const notice = this.#upstreamHealth.record(outcome, error, clock.now());
      if (notice !== undefined) logger.warn(notice.fields, notice.message);
    };
    this.#counting = isPushSource(inner) ? undefined : new CountingSource(inner, this.#metrics, observe);
    this.#upstream = this.#counting ?? new ObservedPushSource(inner as PushSource, observe);
    if (options.redis === undefined) {
      this.instanceId = undefined;
      this.#directory = new LocalRoomDirectory();
    } else {
      // Shared mode: the options are checked now; Redis is reached (and its client loaded) by listen().
      const redis = resolveRedisOptions(options.redis);
      this.instanceId = redis.instanceId;
      this.#directory = new RedisRoomDirectory({
        redis,
        upstreamKey: this.#upstream.key,
        clock,
        logger,
        onLink: (state, rooms) => {
          this.#metrics.redisLink?.inc({ state });
          this.#emitSafely("redis", Object.freeze({ state, rooms }));
        },
      });
    }
    this.#hub = new RoomHub({
      fleet: this.#fleet,
      source: this.#upstream,
      pollOptions,
      notFoundGraceMs,
      metrics: this.#metrics,
      logger,
      directory: this.#directory,
      notFoundMemoryMs,
      hintIntervalMs,
      onChange: this.#dashboard?.state.onRoomChange,
    });
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#limits.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(GATEWAY_SUBPROTOCOL) ? GATEWAY_SUBPROTOCOL : false),
    });
    const handshakeTimeoutMs = this.#limits.handshakeTimeoutMs;
    // Node's own deadlines, behind ours (#pending): headers of a later request on a kept-alive socket.
    this.#server = createServer({ headersTimeout: handshakeTimeoutMs, requestTimeout: 2 * handshakeTimeoutMs, connectionsCheckingInterval: Math.min(1_000, handshakeTimeoutMs) }, (req, res) => this.#onRequest(req, res));
    // The last line: Node drops sockets past this before they cost more than a descriptor.
    this.#server.maxConnections = this.#limits.maxConnections + this.#limits.maxPendingSockets;
    this.#server.on("connection", (socket: Socket) => this.#onSocket(socket));
    this.#server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.#server.on("clientError", (_error, socket) => socket.destroy());
  }

  /** Builds a gateway and resolves once it is listening: `new Gateway(options)`, then `listen()`. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const gateway = new Gateway(options);
    await gateway.listen();
    return gateway;
  }

  /**
   * Connects to Redis (shared mode), listens on the port, and asks the upstream once (the start-up probe,
   * waiting at most PROBE_WAIT_MS for its answer). Once only, and never after close(): InvalidStateError.
   * On failure (ClusterError, the port taken...) everything is released and the gateway is `closed`.
   */
  async listen(): Promise<void> {
    const phase = this.#state.phase;
    if (phase !== "created") {
      throw new InvalidStateError(phase === "draining" || phase === "closed" ? `listen() after close(): the gateway is ${phase}` : `listen() was called already: the gateway is ${phase}`);
    }
    const started = this.#start();
    this.#state = { phase: "starting", started };
    await started;
  }

  async #start(): Promise<void> {
    let address: GatewayAddress;
    try {
      await this.#directory.connect();
      address = await this.#bind();
    } catch (error) {
      await this.#directory.close();
      if (this.#ownsFleet) await this.#fleet.close();
      this.#state = { phase: "closed", address: undefined };
      throw error;
    }
    this.#state = { phase: "listening", address };
    this.#dashboard?.state.start();
    if (this.#budgetWarning !== undefined) this.#logger.warn({ maxConnections: this.#limits.maxConnections, maxPendingSockets: this.#limits.maxPendingSockets }, this.#budgetWarning);
    this.#scheduleHeartbeat();
    // A push upstream answers its first room at once, from its list: there is nothing to probe.
    if (this.#probeUpstream && this.#counting !== undefined) await this.#startProbe(this.#counting);
    // close() may have begun while the probe was out.
    if (this.#state.phase === "listening") {
      const dashboard = this.#dashboard === undefined ? {} : { dashboard: `${address.httpUrl}${DASHBOARD_PATH}` };
      this.#logger.info({ url: address.url, upstream: this.#upstream.key, clientAuth: this.#admission.clientToken !== undefined, ticketKeyIds: this.#admission.tickets?.keyIds, hints: this.#hintToken !== undefined, ...dashboard }, "gateway listening");
    }
  }

  #bind(): Promise<GatewayAddress> {
    const server = this.#server;
    return new Promise<GatewayAddress>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      server.once("error", onError);
      server.listen(this.#port, this.#host, () => {
        server.off("error", onError);
        const { port } = server.address() as AddressInfo;
        const urlHost = this.#host.includes(":") ? `[${this.#host}]` : this.#host;
        resolve({ url: `ws://${urlHost}:${port}`, httpUrl: `http://${urlHost}:${port}`, port });
      });
    });
  }

  /** Where the lifecycle stands (see GatewayPhase). */
  get phase(): GatewayPhase {
    return this.#state.phase;
  }

  /** The WebSocket URL, e.g. "ws://127.0.0.1:41234". InvalidStateError before listen() has bound the port. */
  get url(): string {
    return this.#address("url").url;
  }

  /** The same origin over HTTP, for /healthz, /metrics and hints. InvalidStateError before listen() has bound the port. */
  get httpUrl(): string {
    return this.#address("httpUrl").httpUrl;
  }

  /**
   * The dashboard's page (`<httpUrl>/dashboard`), undefined with the dashboard off. A person opens it as
   * `<dashboardUrl>#token=<metricsToken>`: the fragment never leaves the browser, and the page sends the
   * token as a header. InvalidStateError before listen() has bound the port.
   */
  get dashboardUrl(): string | undefined {
    const { httpUrl } = this.#address("dashboardUrl");
    return this.#dashboard === undefined ? undefined : `${httpUrl}${DASHBOARD_PATH}`;
  }

  /** The port listened on. InvalidStateError before listen() has bound the port. */
  get port(): number {
    return this.#address("port").port;
  }

  /** Where it listens (or listened, once closed). */
  #address(name: string): GatewayAddress {
    const state = this.#state;
    const address = state.phase === "listening" || state.phase === "draining" || state.phase === "closed" ? state.address : undefined;
    if (address === undefined) throw new InvalidStateError(`${name} is known once listen() has bound the port; the gateway is ${state.phase}`);
    return address;
  }

  /** As /healthz reports it. */
  get health(): GatewayHealth {
    const doubt = this.#probeDoubt;
    return gatewayHealth({
      upstreamTrouble: this.#upstreamHealth.reason,
      probeDoubt: doubt !== undefined && this.#upstreamHealth.answered === doubt.answeredBefore ? doubt.hint : undefined,
      redisDown: this.#directory.shared && !this.#directory.connected,
      draining: this.#draining,
    });
  }

  get stats(): GatewayStats {
    return {
      connections: this.#connections.size,
      subscriptions: this.#hub.subscriptions,
      rooms: this.#hub.rooms,
      ownedRooms: this.#hub.ownedRooms,
      upstreamRequests: this.#counting?.requests ?? 0,
    };
  }

  /** The Prometheus exposition text, as served at /metrics. */
  async metricsText(): Promise<string> {
    return (await this.#metrics.expose()).body;
  }

  /**
   * Graceful shutdown: refuse new WebSocket clients (503) and report draining at /healthz, close every
   * client with 1001 (going away), give them `shutdownGraceMs` to answer, drop the rest, stop every
   * upstream watch, stop listening. Idempotent. Before listen(), releases what was built; during
   * listen(), waits for it to settle first.
   */
  close(): Promise<void> {
    const state = this.#state;
    switch (state.phase) {
      case "created":
        this.#state = { phase: "closed", address: undefined };
        return this.#release();
      case "starting":
        return state.started.then(
          () => this.close(),
          () => this.close(),
        );
      case "listening": {
        const closed = this.#shutdown().finally(() => {
          this.#state = { phase: "closed", address: state.address };
        });
        this.#state = { phase: "draining", address: state.address, closed };
        return closed;
      }
      case "draining":
        return state.closed;
      case "closed":
        return Promise.resolve();
      default:
        return unreachable(state);
    }
  }

  get #draining(): boolean {
    return this.#state.phase === "draining" || this.#state.phase === "closed";
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
    this.#pending.destroyAll();
    await allClosed;
    const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await this.#probe?.done;
    await this.#release();
    this.#wss.close();
    this.#server.closeAllConnections();
    await serverClosed;
    this.#logger.info({}, "gateway closed");
  }

  /** Stops every upstream watch and lets go of Redis and an owned fleet. */
  async #release(): Promise<void> {
    if (this.#dashboard !== undefined) {
      this.#dashboard.state.stop();
      this.#fleet.off("paused", this.#dashboard.onPaused);
    }
    await this.#hub.close();
    await this.#directory.close();
    if (this.#ownsFleet) await this.#fleet.close();
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
   * The upstream's budget as the dashboard shows it: the fleet's rate or the source's own budget (Edgegap's),
   * whichever is stricter, and a 429 pause of either.
   */
  #upstreamLimit(): { maxRequestsPerSecond: number; pausedUntil: number } {
    const scheduler = this.#fleet.scheduler;
    const key = this.#counting?.budget?.key;
    const own = key === undefined ? undefined : scheduler.lanes.find((lane) => lane.key === key);
    return {
      maxRequestsPerSecond: Math.min(scheduler.maxRequestsPerSecond, own?.maxRequestsPerSecond ?? Infinity),
      pausedUntil: Math.max(scheduler.pausedUntil, own?.pausedUntil ?? -Infinity),
    };
  }

  /**
   * One look at a room that cannot exist, in the fleet's budget like any other, judged by the upstream's
   * health as any request is. Resolves on its answer or after PROBE_WAIT_MS, whichever comes first; a
   * slower answer is still judged when it comes, and close() aborts it.
   */
  async #startProbe(counting: CountingSource): Promise<void> {
    const controller = new AbortController();
    const { scheduler } = this.#fleet;
    const done = (async (): Promise<void> => {
      try {
        await scheduler.acquire(Urgency.FIRST_LOOK, controller.signal, undefined, scheduler.lane(counting.budget));
      } catch {
        return; // aborted by close() before its turn
      }
      try {
        const { hint } = await counting.poll(PROBE_ROOM_ID, { signal: controller.signal });
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
    if (intervalMs === 0 || this.#state.phase !== "listening") return;
    this.#heartbeat = this.#timers.after(intervalMs, () => {
      for (const connection of this.#connections) connection.heartbeat();
      this.#scheduleHeartbeat();
    });
  }

  #onSocket(socket: Socket): void {
    socket.on("error", () => socket.destroy());
    const address = normalizeAddress(socket.remoteAddress);
    const refusal = this.#pending.admit(socket, address);
    if (refusal === undefined) return;
    this.#refuse(refusal, address);
    socket.destroy();
  }

  /** Counts a refusal and logs it, rate-limited. */
  #refuse(reason: RefusalReason, address: string | undefined): void {
    this.#metrics.refusals.inc({ reason });
    this.#refusalLog.refused(reason, address);
  }

  #clientAddress(req: IncomingMessage): string {
    return clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], this.#trustedProxies);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#pending.requested(req.socket);
    const receiver = req.method === "POST" ? this.#webhooks.find((r) => (req.url ?? "").startsWith(r.prefix)) : undefined;
    if (receiver !== undefined) {
      this.#answerWebhook(receiver, req).then(
        (answer) => writeAnswer(res, answer),
        () => writeAnswer(res, jsonAnswer(500, { message: "internal error" })),
      );
      return;
    }
    // No other route reads a body: drain it so the connection can be reused.
    req.resume();
    this.#answer(req).then(
      (answer) => writeAnswer(res, answer),
      () => writeAnswer(res, jsonAnswer(500, { message: "internal error" })),
    );
  }

  /** A host's callback: a hint for its room when it carries the secret and names one. */
  async #answerWebhook(receiver: WebhookReceiver, req: IncomingMessage): Promise<HttpAnswer> {
    // A webhook's secret is a credential like a hint token: the same lockout, the same throttle.
    const address = this.#clientAddress(req);
    if (this.#failedAuths.over(address)) {
      req.resume();
      this.#refuse("auth_lockout", address);
      return TOO_MANY_FAILED_AUTHS;
    }
    const body = await readBody(req, MAX_WEBHOOK_BODY_BYTES);
    if (body === undefined) {
      this.#metrics.hints.inc({ outcome: "invalid" });
      return jsonAnswer(413, { message: `webhook bodies are at most ${MAX_WEBHOOK_BODY_BYTES} bytes` });
    }
    let roomId: string;
    try {
      roomId = receiver.read(req.url ?? "/", body);
    } catch (error) {
      const reason = error instanceof WebhookError ? error.reason : "bad_body";
      this.#metrics.hints.inc({ outcome: reason === "bad_body" ? "invalid" : "unauthorized" });
      if (reason === "bad_secret") this.#failedAuths.take(address);
      // A wrong secret looks like no route at all: a guess learns nothing.
      return reason === "bad_body" ? jsonAnswer(400, { message: error instanceof Error ? error.message : "bad webhook body" }) : NOT_FOUND;
    }
    if (!this.#hintRate.take(address)) {
      this.#metrics.hints.inc({ outcome: "throttled" });
      return HINTS_THROTTLED;
    }
    const outcome = this.#hub.refusal(roomId) === undefined ? this.#hub.hint(roomId) : "unknown_room";
    this.#metrics.hints.inc({ outcome });
    if (outcome === "accepted") this.#logger.debug({ roomId, outcome }, "webhook hint");
    return hintAnswer(roomId, outcome);
  }

  async #answer(req: IncomingMessage): Promise<HttpAnswer> {
    const route = routeOf(req.method, req.url);
    switch (route.name) {
      case "healthz": {
        const cluster = this.instanceId === undefined ? undefined : { instanceId: this.instanceId, redis: this.#directory.connected ? ("up" as const) : ("down" as const) };
        return healthzAnswer(this.health, this.stats, cluster);
      }
      case "metrics":
        if (this.#metricsToken !== undefined && !this.#metricsToken.matchesHeader(req.headers.authorization)) return UNAUTHORIZED;
        return metricsAnswer(await this.#metrics.expose().catch(() => undefined));
      case "hint": {
        const address = this.#clientAddress(req);
        if (this.#failedAuths.over(address)) {
          this.#refuse("auth_lockout", address);
          return TOO_MANY_FAILED_AUTHS;
        }
        const hint = readHint(this.#hintToken, req.headers.authorization, route.roomIdSegment);
        if (!hint.ok) {
          this.#metrics.hints.inc({ outcome: hint.outcome });
          if (hint.outcome === "unauthorized") this.#failedAuths.take(address);
          return hint.answer;
        }
        if (!this.#hintRate.take(address)) {
          this.#metrics.hints.inc({ outcome: "throttled" });
          return HINTS_THROTTLED;
        }
        const outcome = this.#hub.hint(hint.roomId);
        this.#metrics.hints.inc({ outcome });
        if (outcome === "accepted") this.#logger.debug({ roomId: hint.roomId, outcome }, "readiness hint");
        return hintAnswer(hint.roomId, outcome);
      }
      case "dashboard":
        if (this.#dashboard === undefined) return NOT_FOUND;
        this.#metrics.dashboardRequests.inc({ outcome: "ok" });
        return this.#dashboard.assets[route.asset];
      case "dashboard_snapshot":
        return this.#answerSnapshot(req);
      case "dashboard_unknown":
        if (this.#dashboard === undefined) return NOT_FOUND;
        this.#metrics.dashboardRequests.inc({ outcome: "not_found" });
        return DASHBOARD_NOT_FOUND;
      case "not_found":
        return NOT_FOUND;
      default:
        return unreachable(route);
    }
  }

  /**
   * The dashboard's figures. Refused in this order, each counted, none costing an upstream request: an
   * address locked out by failed authentications (429), no or a wrong metrics token (401, which counts
   * towards that lockout), a query other than `since=<seq>` (400).
   */
  async #answerSnapshot(req: IncomingMessage): Promise<HttpAnswer> {
    const dashboard = this.#dashboard;
    if (dashboard === undefined) return NOT_FOUND;
    const address = this.#clientAddress(req);
    if (this.#failedAuths.over(address)) {
      this.#metrics.dashboardRequests.inc({ outcome: "locked_out" });
      this.#refuse("auth_lockout", address);
      return TOO_MANY_FAILED_AUTHS;
    }
    if (!dashboard.token.matchesHeader(req.headers.authorization)) {
      this.#metrics.dashboardRequests.inc({ outcome: "unauthorized" });
      this.#failedAuths.take(address);
      this.#refusalLog.refused("unauthorized", address);
      return DASHBOARD_UNAUTHORIZED;
    }
    const query = readSnapshotQuery(req.url ?? "");
    if (!query.ok) {
      this.#metrics.dashboardRequests.inc({ outcome: "invalid" });
      return dashboardJson(400, { message: query.message });
    }
    const [transitions, upstreamOutcomes, detectionLatency] = await Promise.all([
      this.#metrics.roomTransitions.get(),
      this.#metrics.upstreamRequests.get(),
      this.#metrics.detectionLatency.get(),
    ]);
    this.#metrics.dashboardRequests.inc({ outcome: "ok" });
    return dashboardJson(
      200,
      buildSnapshot({
        at: this.#fleet.clock.now(),
        health: this.health,
        statusCounts: this.#hub.statusCounts(),
        connections: this.#connections.size,
        subscribers: this.#hub.subscriptions,
        polling: this.#counting !== undefined,
        requests: this.#counting?.requests ?? 0,
        ...this.#upstreamLimit(),
        transitions: transitions.values,
        upstreamOutcomes: upstreamOutcomes.values,
        detectionLatency: detectionLatency.values,
        dashboard: dashboard.state,
        since: query.since,
      }),
    );
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const address = this.#clientAddress(req);
    const lockedOut = this.#failedAuths.over(address);
    const verdict = admitHandshake(this.#admission, { origin: req.headers.origin, protocols: req.headers["sec-websocket-protocol"], lockedOut }, this.#state.phase !== "listening");
    if (!verdict.ok) {
      if (verdict.cause === "auth_lockout") this.#refuse("auth_lockout", address);
      else if (verdict.cause !== "draining") this.#metrics.protocolErrors.inc({ code: verdict.cause });
      if (verdict.cause === "origin") this.#refusalLog.refused("origin", address);
      socket.end(handshakeRefusal(verdict));
      this.#pending.refused(socket);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, req, address));
  }

  #onConnection(ws: WebSocket, req: IncomingMessage, address: string): void {
    this.#sockets.add(ws);
    // ws closes a connection itself on an oversize frame (1009), bad UTF-8 (1007), bad framing (1002) or
    // too many fragments (1008), and reports it as an error first: counted like our own closes, never thrown.
    ws.on("error", (error) => {
      const code = libraryCloseCode(error);
      if (code !== undefined) this.#metrics.closes.inc({ code: String(code) });
      this.#logger.debug({ error: error.message, code }, "connection error");
    });
    ws.once("close", () => this.#sockets.delete(ws));
    const request = { authorization: req.headers.authorization, protocols: offeredProtocols(req.headers["sec-websocket-protocol"]), ticketInUrl: hasTicketParameter(req.url) };
    const verdict = admitConnection(this.#admission, request, { draining: this.#state.phase !== "listening", connections: this.#connections.size, now: this.#clock.now() });
    if (verdict.ok && verdict.grant !== undefined) this.#metrics.tickets.inc({ outcome: "accepted" });
    if (!verdict.ok) {
      ws.close(verdict.code, verdict.reason);
      // Still not a connection: it holds its pending place until it goes, and goes within the grace.
      this.#pending.refused(req.socket, () => ws.terminate());
      if (verdict.cause === "draining") return;
      this.#metrics.closes.inc({ code: String(verdict.code) });
      if (verdict.cause === "ticket") this.#metrics.tickets.inc({ outcome: verdict.ticket });
      // A refused ticket is a failed authentication like a wrong token: forging them is guessing.
      if (verdict.cause === "unauthorized" || verdict.cause === "ticket") {
        this.#failedAuths.take(address);
        this.#refusalLog.refused(verdict.cause === "ticket" ? `ticket_${verdict.ticket}` : "unauthorized", address);
      }
      this.#emitClosing(undefined, verdict.code, verdict.reason);
      return;
    }
    this.#pending.upgraded(req.socket);
    const connection = new GatewayConnection(this.#nextConnectionId++, ws, {
      rooms: verdict.grant === undefined ? undefined : new Set(verdict.grant.rooms),
      hub: this.#hub,
      limits: this.#limits,
      metrics: this.#metrics,
      logger: this.#logger,
      onClosing: (code, reason) => {
        // A connection closed for flooding invalid (or refused) messages counts against its address like a
        // wrong token: reconnecting at once to flood again ends in the same lockout.
        if (code === GatewayCloseCode.PROTOCOL_VIOLATION) this.#failedAuths.take(address);
        this.#emitClosing(connection.id, code, reason);
      },
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

/** Whether a request URL has a `ticket` query parameter: a ticket there would be logged by every proxy on the way. */
function hasTicketParameter(url: string | undefined): boolean {
  try {
    return new URL(url ?? "/", "http://gateway.invalid").searchParams.has("ticket");
  } catch {
    return false;
  }
}

const UNAUTHORIZED: HttpAnswer = jsonAnswer(401, { message: "Unauthorized" });
const DASHBOARD_UNAUTHORIZED: HttpAnswer = dashboardJson(401, { message: "Unauthorized" });
const DASHBOARD_NOT_FOUND: HttpAnswer = dashboardJson(404, { message: "not found" });
const TOO_MANY_FAILED_AUTHS: HttpAnswer = jsonAnswer(429, { message: "too many failed authentications from this address; try again later" });
const HINTS_THROTTLED: HttpAnswer = jsonAnswer(429, { message: "too many hints from this address; try again later" });

function upstreamSource(options: GatewayOptions): RoomSource {
  if (options.baseUrl === undefined || options.appId === undefined) {
    throw new ConfigError("the gateway needs baseUrl and appId (or a source)");
  }
  return new HathoraHttpSource({ baseUrl: options.baseUrl, appId: options.appId, token: options.token });
}

/** Options of 0.1 under their old names. */
const RENAMED: Readonly<Record<string, string>> = { upstream: "baseUrl", upstreamToken: "token" };

/**
 * `token` was the clients' token and is now the rooms API's, as everywhere else: code written for the old
 * names must fail, never run with its clients' token sent upstream and the gateway left open.
 */
function refuseRenamedOptions(options: GatewayOptions): void {
  for (const [old, name] of Object.entries(RENAMED)) {
    if (old in options) throw new ConfigError(`the gateway option ${old} is now ${name} (and the clients' token, once token, is clientToken)`);
  }
  if (options.source !== undefined && options.token !== undefined) {
    throw new ConfigError("token is the rooms API's token, unused with a source; the clients' token is clientToken");
  }
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
