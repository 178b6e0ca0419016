/**
 * The HTTP face of the simulator (node:http): routes, auth, validation and fault injection, speaking the
 * Hathora rooms API wire format exactly (shared/reference/hathora-rooms-api.md). The world holds the
 * state; this file turns requests into world calls at the current simulated time.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { CreateRoomParamsSchema, RoomIdSchema, type ApiError } from "../providers/hathora/schemas.js";
import { HATHORA_ID_PATTERN } from "../providers/hathora/schemas.js";
import { type FaultAnswers, type FaultInjector, malformBody, type MalformedKind, playFault } from "./faults.js";
import { answerPreflight, applyCors, type CorsPolicy, isPreflight } from "./cors.js";
import { bearerToken, CancellableWaits, MAX_BODY_BYTES, pathSegments, readBody, send, tokenEquals, type Reply } from "./http-kit.js";
import type { SimulatedTime } from "./simulated-time.js";
import { createTicker } from "./ticker.js";
import type { World } from "./world.js";

export { MAX_BODY_BYTES } from "./http-kit.js";

export const Endpoint = {
  CREATE: "create",
  CONNECTION_INFO: "connectionInfo",
  CONNECTION_INFO_V1: "connectionInfoV1",
  INFO: "info",
  DESTROY: "destroy",
  SUSPEND: "suspend",
  RESUME: "resume",
  LIST_ACTIVE: "listActive",
  LIST_INACTIVE: "listInactive",
} as const;
export type Endpoint = (typeof Endpoint)[keyof typeof Endpoint];

/** Connection info is what game clients poll: faults always apply there, elsewhere only with `faultAdmin`. */
const CONNECTION_INFO_ENDPOINTS: ReadonlySet<Endpoint> = new Set([Endpoint.CONNECTION_INFO, Endpoint.CONNECTION_INFO_V1]);

export interface SimulatorServerOptions {
  readonly time: SimulatedTime;
  readonly faults: FaultInjector;
  /** Bearer token admin calls must carry. Default: any non-empty bearer token. */
  readonly token?: string | undefined;
  /** The only app id served; others answer 404. Default: any well-formed app id. */
  readonly appId?: string | undefined;
  /** Inject faults on admin endpoints too, not only on connection info. Default false. */
  readonly faultAdmin?: boolean | undefined;
  /** When set, a timer advances the world between requests: at the next due event, or after this many real ms if sooner. Default unset. */
  readonly tickMs?: number | undefined;
}

export interface SimulatorServer {
  readonly server: Server;
  /** Requests naming `roomId` in their path or query (all requests when omitted), optionally of one endpoint. */
  requestCount(roomId?: string, endpoint?: Endpoint): number;
  /** Re-arms the tick timer after the world changed outside a request (a no-op without `tickMs`). */
  worldChanged(): void;
  /** Closes the server and every open socket and clears every timer. Idempotent. */
  close(): Promise<void>;
}

interface Route {
  readonly endpoint: Endpoint;
  readonly method: "GET" | "POST";
  readonly admin: boolean;
  readonly appId: string;
  readonly roomId?: string | undefined;
  readonly processId?: string | undefined;
}

const ROOM_ACTIONS: Readonly<Record<string, { endpoint: Endpoint; method: "GET" | "POST" }>> = {
  connectioninfo: { endpoint: Endpoint.CONNECTION_INFO, method: "GET" },
  info: { endpoint: Endpoint.INFO, method: "GET" },
  destroy: { endpoint: Endpoint.DESTROY, method: "POST" },
  suspend: { endpoint: Endpoint.SUSPEND, method: "POST" },
  resume: { endpoint: Endpoint.RESUME, method: "POST" },
};

function matchRoute(segments: readonly string[]): Route | undefined {
  const [root, version, appId, action, param, tail] = segments;
  if (root !== "rooms" || appId === undefined || action === undefined) return undefined;
  if (version === "v1") {
    if (segments.length === 5 && action === "connectioninfo" && param !== undefined) {
      return { endpoint: Endpoint.CONNECTION_INFO_V1, method: "GET", admin: false, appId, roomId: param };
    }
    return undefined;
  }
  if (version !== "v2") return undefined;
  if (segments.length === 4 && action === "create") {
    return { endpoint: Endpoint.CREATE, method: "POST", admin: true, appId };
  }
  if (segments.length === 5 && param !== undefined && Object.hasOwn(ROOM_ACTIONS, action)) {
    const { endpoint, method } = ROOM_ACTIONS[action]!;
    return { endpoint, method, admin: endpoint !== Endpoint.CONNECTION_INFO, appId, roomId: param };
  }
  if (segments.length === 6 && action === "list" && param !== undefined && (tail === "active" || tail === "inactive")) {
    const endpoint = tail === "active" ? Endpoint.LIST_ACTIVE : Endpoint.LIST_INACTIVE;
    return { endpoint, method: "GET", admin: true, appId, processId: param };
  }
  return undefined;
}

function apiError(status: number, message: string, headers?: Record<string, string>): Reply {
  const body: ApiError = { message };
  return { status, body, headers };
}

/** Injected failures in the rooms API's own words. */
const HATHORA_FAULT_ANSWERS: FaultAnswers = {
  rateLimited: (retryAfter) => apiError(429, "Too many requests", retryAfter === undefined ? {} : { "retry-after": retryAfter }),
  error: (status) => apiError(status, STATUS_CODES[status] ?? "Error"),
};

/**
 * api.hathora.dev is called from players' browsers (Hathora's browser client SDK fetches connection info
 * from it; docs/simulator.md, "CORS"), so the simulator answers cross-origin requests as it must for that.
 */
const HATHORA_CORS: CorsPolicy = {
  methods: ["GET", "POST"],
  requestHeaders: ["authorization", "content-type"],
  exposedHeaders: ["retry-after", "content-length"],
  maxAgeSeconds: 600,
};

export function createSimulatorServer(world: World, options: SimulatorServerOptions): SimulatorServer {
  const { time, faults } = options;
  const token = options.token;
  const requestsByRoom = new Map<string, Map<Endpoint, number>>();
  const requestsByEndpoint = new Map<Endpoint, number>();
  let totalRequests = 0;
  const waits = new CancellableWaits();
  const ticker = options.tickMs === undefined ? undefined : createTicker(world, time, options.tickMs);
  let closing: Promise<void> | undefined;

  function count(roomId: string | undefined, endpoint: Endpoint): void {
    totalRequests++;
    requestsByEndpoint.set(endpoint, (requestsByEndpoint.get(endpoint) ?? 0) + 1);
    if (roomId === undefined) return;
    let perEndpoint = requestsByRoom.get(roomId);
    if (perEndpoint === undefined) requestsByRoom.set(roomId, (perEndpoint = new Map<Endpoint, number>()));
    perEndpoint.set(endpoint, (perEndpoint.get(endpoint) ?? 0) + 1);
  }

  function requestCount(roomId?: string, endpoint?: Endpoint): number {
    if (roomId === undefined) return endpoint === undefined ? totalRequests : (requestsByEndpoint.get(endpoint) ?? 0);
    const perEndpoint = requestsByRoom.get(roomId);
    if (perEndpoint === undefined) return 0;
    if (endpoint !== undefined) return perEndpoint.get(endpoint) ?? 0;
    let sum = 0;
    for (const n of perEndpoint.values()) sum += n;
    return sum;
  }

  function worldChanged(): void {
    if (closing === undefined) ticker?.changed();
  }

  function authorized(req: IncomingMessage): boolean {
    const presented = bearerToken(req);
    if (presented === undefined) return false;
    return token === undefined || tokenEquals(presented, token);
  }

  function roomNotFound(roomId: string): Reply {
    return apiError(404, `Room ${roomId} not found`);
  }

  function handleCreate(route: Route, url: URL, bodyText: string): Reply {
    const queryRoomId = url.searchParams.get("roomId") ?? undefined;
    if (queryRoomId !== undefined && !RoomIdSchema.safeParse(queryRoomId).success) {
      return apiError(422, "roomId must be 1..100 characters of [a-zA-Z0-9_-]");
    }
    let json: unknown;
    try {
      json = JSON.parse(bodyText);
    } catch {
      return apiError(400, "Request body must be JSON");
    }
    const parsed = CreateRoomParamsSchema.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      return apiError(422, `Invalid request body: ${detail}`);
    }
    if (queryRoomId !== undefined && world.hasRoom(queryRoomId)) return apiError(400, "room already exists");
    const nowMs = time.now();
    const created = world.createRoom(nowMs, {
      appId: route.appId,
      roomId: queryRoomId,
      region: parsed.data.region,
      roomConfig: parsed.data.roomConfig,
    });
    const info = world.connectionInfo(nowMs, route.appId, created.roomId);
    if (info === undefined) return roomNotFound(created.roomId);
    return { status: 201, body: { ...info, processId: created.processId } };
  }

  function handleRoute(route: Route, url: URL, bodyText: string): Reply {
    const nowMs = time.now();
    const { appId } = route;
    const roomId = route.roomId ?? "";
    switch (route.endpoint) {
      case Endpoint.CREATE:
        return handleCreate(route, url, bodyText);
      case Endpoint.CONNECTION_INFO: {
        const info = world.connectionInfo(nowMs, appId, roomId);
        return info === undefined ? roomNotFound(roomId) : { status: 200, body: info };
      }
      case Endpoint.CONNECTION_INFO_V1: {
        const info = world.connectionInfoV1(nowMs, appId, roomId);
        return info === undefined ? roomNotFound(roomId) : { status: 200, body: info };
      }
      case Endpoint.INFO: {
        const room = world.roomInfo(nowMs, appId, roomId);
        return room === undefined ? roomNotFound(roomId) : { status: 200, body: room };
      }
      case Endpoint.DESTROY:
      case Endpoint.SUSPEND: {
        if (world.connectionInfo(nowMs, appId, roomId) === undefined) return roomNotFound(roomId);
        if (route.endpoint === Endpoint.DESTROY) world.destroyRoom(nowMs, roomId);
        else world.suspendRoom(nowMs, roomId);
        return { status: 204 };
      }
      case Endpoint.RESUME: {
        if (world.connectionInfo(nowMs, appId, roomId) === undefined) return roomNotFound(roomId);
        world.resumeRoom(nowMs, roomId);
        const data = world.connectionData(nowMs, appId, roomId);
        return data === undefined ? roomNotFound(roomId) : { status: 200, body: data };
      }
      case Endpoint.LIST_ACTIVE:
      case Endpoint.LIST_INACTIVE: {
        const processId = route.processId ?? "";
        const which = route.endpoint === Endpoint.LIST_ACTIVE ? "active" : "inactive";
        const rooms = world.listRooms(nowMs, appId, processId, which);
        return rooms === undefined ? apiError(404, `Process ${processId} not found`) : { status: 200, body: rooms };
      }
      default: {
        const unreachable: never = route.endpoint;
        throw new Error(`unhandled endpoint ${String(unreachable)}`);
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    applyCors(res, HATHORA_CORS);
    const body = await readBody(req);
    if (body.kind === "aborted" || closing !== undefined) return;
    if (body.kind === "tooLarge") {
      send(res, apiError(413, `Request body larger than ${MAX_BODY_BYTES} bytes`, { connection: "close" }));
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://simulator.invalid");
    } catch {
      send(res, apiError(400, "Malformed request URL"));
      return;
    }
    const segments = pathSegments(url.pathname);
    if (segments === undefined) {
      send(res, apiError(400, "Malformed percent-encoding in path"));
      return;
    }
    const route = matchRoute(segments);
    if (route === undefined) {
      send(res, apiError(404, "Not found"));
      return;
    }
    // A preflight is the browser's question, not a call: no token, no fault, not counted.
    if (isPreflight(req)) {
      answerPreflight(res, HATHORA_CORS);
      return;
    }
    if (req.method !== route.method) {
      send(res, apiError(405, `Method ${req.method ?? ""} not allowed`, { allow: route.method }));
      return;
    }
    count(route.roomId ?? url.searchParams.get("roomId") ?? undefined, route.endpoint);

    let malformed: MalformedKind | undefined;
    if (CONNECTION_INFO_ENDPOINTS.has(route.endpoint) || options.faultAdmin === true) {
      const left = await playFault(faults, route.roomId, req, res, (delayMs) => waits.wait(delayMs), HATHORA_FAULT_ANSWERS);
      if (left === undefined) return;
      malformed = left.malformed;
    }

    // Never say why a token was refused, and never repeat it.
    if (route.admin && !authorized(req)) {
      send(res, apiError(401, "Unauthorized"));
      return;
    }
    if (!HATHORA_ID_PATTERN.test(route.appId) || (options.appId !== undefined && route.appId !== options.appId)) {
      send(res, apiError(404, `App ${route.appId} not found`));
      return;
    }

    const reply = handleRoute(route, url, body.text);
    worldChanged();
    if (malformed !== undefined && reply.status >= 200 && reply.status < 300 && reply.body !== undefined) {
      faults.record("malformed");
      send(res, reply, malformBody(reply.body, malformed, faults.random));
      return;
    }
    send(res, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Bad input must never crash the simulator: answer 500 if we still can, else drop the connection.
      if (!res.headersSent && !res.destroyed) send(res, apiError(500, "Internal server error"));
      else res.destroy();
    });
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable) {
      const text = JSON.stringify({ message: "Bad request" } satisfies ApiError);
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    } else {
      socket.destroy();
    }
  });

  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      ticker?.stop();
      waits.cancelAll();
      // close() stops accepting; closeAllConnections() ends keep-alive and in-flight sockets so it can finish.
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  }

  return { server, requestCount, worldChanged, close };
}
