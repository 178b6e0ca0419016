/**
 * The HTTPS face of the fake Agones cluster: the Kubernetes API paths for GameServers and
 * GameServerAllocations (shared/reference/agones-gameservers-api.md), bearer-token auth with RBAC
 * refusals, list/get/create/delete, streaming watches with bookmarks, 410s and timeouts, and faults.
 * The world holds the state; this file turns requests into world calls at the current simulated time.
 */
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { type FaultAnswers, type FaultInjector, malformBody, type MalformedKind, playFault } from "../faults.js";
import { bearerToken, CancellableWaits, MAX_BODY_BYTES, MAX_TIMER_MS, pathSegments, readBody, tokenEquals } from "../http-kit.js";
import { createRandom } from "../random.js";
import type { SimulatedTime } from "../simulated-time.js";
import { createTicker } from "../ticker.js";
import { allocationResponse, AllocationState, parseAllocationRequest } from "./allocation.js";
import type { WatchFaults } from "./faults.js";
import { NAMESPACE_NAME, parseGameServerRequest, type GameServer } from "./game-server.js";
import { viewOf, type Change, type ObjectFilter } from "./object-store.js";
import { parseFieldSelector, parseLabelSelector } from "./selectors.js";
import * as Status from "./status.js";
import type { TlsMaterial } from "./credentials.js";
import type { AgonesWorld } from "./world.js";

/** What a token may do: Kubernetes verbs on gameservers, and `create` on gameserverallocations as "allocate". */
export type Verb = "get" | "list" | "watch" | "create" | "delete" | "allocate";
export const ALL_VERBS: readonly Verb[] = ["get", "list", "watch", "create", "delete", "allocate"];

/** Simulated seconds of a watch without timeoutSeconds: [1800, 3600), as the apiserver's minRequestTimeout. */
const DEFAULT_WATCH_TIMEOUT_S = 1_800;
/** The apiserver's watch cache sends a bookmark about once a minute. */
export const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000;

export interface ApiServerOptions {
  readonly time: SimulatedTime;
  readonly tls: TlsMaterial;
  readonly listFaults: FaultInjector;
  readonly watchFaults: WatchFaults;
  readonly seed: number;
  /** The token of the kubeconfig's user. */
  readonly token: string;
  /** The user name RBAC refusals name. */
  readonly user: string;
  /** Simulated ms between bookmarks on a watch that asked for them. */
  readonly bookmarkIntervalMs: number;
  /** Called as each request is counted (before it is answered). A throwing hook is ignored. */
  readonly onRequest?: ((operation: Operation) => void) | undefined;
}

export type Operation = "list" | "watch" | "get" | "create" | "delete" | "allocate";

interface OpenWatch {
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
  silent: boolean;
  end(): void;
  bookmark(): void;
}

export interface ApiServer {
  readonly server: Server;
  /** Re-arms the lifecycle timer after the world changed outside a request. */
  changed(): void;
  /** Verbs the kubeconfig's token is granted; undefined grants everything. */
  setPermissions(verbs: readonly Verb[] | undefined): void;
  requestCount(operation?: Operation): number;
  /** TLS connections accepted so far. */
  readonly connectionCount: number;
  readonly openWatchCount: number;
  /** Cuts every open watch stream (destroys its socket). Returns how many. */
  dropWatches(): number;
  /** Every open watch stops sending (no events, no bookmarks) and never ends by itself. Returns how many. */
  silenceWatches(): number;
  /** Sends a bookmark now on every open watch that asked for them. Returns how many. */
  sendBookmarks(): number;
  close(): Promise<void>;
}

type Route =
  | { readonly kind: "gameservers"; readonly namespace: string | undefined }
  | { readonly kind: "gameserver"; readonly namespace: string; readonly name: string }
  | { readonly kind: "allocations"; readonly namespace: string };

function matchRoute(segments: readonly string[]): Route | undefined {
  const [apis, group, version, a, b, c, d] = segments;
  if (apis !== "apis" || version !== "v1") return undefined;
  if (group === "agones.dev") {
    if (segments.length === 4 && a === "gameservers") return { kind: "gameservers", namespace: undefined };
    if (a !== "namespaces" || b === undefined || c !== "gameservers") return undefined;
    if (segments.length === 6) return { kind: "gameservers", namespace: b };
    if (segments.length === 7 && d !== undefined && d !== "") return { kind: "gameserver", namespace: b, name: d };
    return undefined;
  }
  if (group === "allocation.agones.dev" && segments.length === 6 && a === "namespaces" && b !== undefined && c === "gameserverallocations") {
    return { kind: "allocations", namespace: b };
  }
  return undefined;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

const reply = (status: Status.KubeStatus, headers?: Record<string, string>): Reply => ({ status: status.code, body: status, headers });

function send(res: ServerResponse, answer: Reply, rawBody?: string): void {
  if (res.headersSent || res.destroyed) return;
  const text = rawBody ?? JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...answer.headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

const isWatch = (url: URL): boolean => ["1", "true"].includes(url.searchParams.get("watch") ?? "");

function parseRv(value: string): number | undefined {
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** Injected failures as the Kubernetes API says them: Status objects. */
const KUBERNETES_FAULT_ANSWERS: FaultAnswers = {
  rateLimited: (retryAfter) => {
    const seconds = retryAfter === undefined ? undefined : Number(retryAfter);
    return reply(Status.tooManyRequests(Number.isFinite(seconds) ? seconds : undefined), retryAfter === undefined ? {} : { "retry-after": retryAfter });
  },
  error: (status) => reply(Status.statusOfCode(status, `injected fault: HTTP ${status}`)),
};

export function createAgonesApiServer(world: AgonesWorld, options: ApiServerOptions): ApiServer {
  const { time, listFaults, watchFaults } = options;
  const store = world.store;
  const waits = new CancellableWaits();
  const ticker = createTicker(world, time);
  const watches = new Set<OpenWatch>();
  const watchRandom = createRandom(options.seed, "agones-watch-timeouts");
  const requests = new Map<Operation, number>();
  const sockets = new Set<Socket>();
  let permissions: ReadonlySet<Verb> | undefined;
  let connectionCount = 0;
  let closing: Promise<void> | undefined;

  const now = (): number => {
    world.advance(time.now());
    return world.nowMs;
  };

  function filterOf(route: { namespace: string | undefined }, url: URL): ObjectFilter | Reply {
    const labels = parseLabelSelector(url.searchParams.get("labelSelector"));
    if (!labels.ok) return reply(Status.badRequest(`unable to parse requirement: ${labels.message}`));
    const fields = parseFieldSelector(url.searchParams.get("fieldSelector"));
    if (!fields.ok) return reply(Status.badRequest(fields.message));
    return { namespace: route.namespace, labels: labels.selector, fields: fields.selector };
  }

  function list(route: { namespace: string | undefined }, url: URL): Reply {
    const filter = filterOf(route, url);
    if ("status" in filter) return filter;
    const rvText = url.searchParams.get("resourceVersion") ?? "";
    const match = url.searchParams.get("resourceVersionMatch") ?? "";
    if (match !== "" && rvText === "") return reply(Status.invalid(Status.GAME_SERVERS, "", [{ reason: "FieldValueForbidden", field: "resourceVersionMatch", message: "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided" }]));
    if (rvText !== "" && rvText !== "0") {
      const rv = parseRv(rvText);
      if (rv === undefined) return reply(Status.badRequest(`invalid resource version: ${rvText}`));
      if (rv > store.rv) {
        const status = Status.statusOfCode(504, `Too large resource version: ${rv}, current: ${store.rv}`);
        return reply({ ...status, details: { retryAfterSeconds: 1 } }, { "retry-after": "1" });
      }
      // Only the present can be listed: an exact read of a compacted version is gone.
      if (match === "Exact" && rv < store.oldestRv) return reply(Status.expired(rvText, String(store.oldestRv)));
    }
    const { rv, items } = store.list(filter);
    return {
      status: 200,
      body: { apiVersion: "agones.dev/v1", kind: "GameServerList", metadata: { resourceVersion: String(rv), continue: "" }, items },
    };
  }

  function create(namespace: string, bodyText: string): Reply {
    let json: unknown;
    try {
      json = JSON.parse(bodyText);
    } catch {
      return reply(Status.badRequest("the request body is not valid JSON"));
    }
    const bodyNamespace = (json as { metadata?: { namespace?: unknown } } | null)?.metadata?.namespace;
    if (bodyNamespace !== undefined && bodyNamespace !== namespace) {
      return reply(Status.badRequest("the namespace of the provided object does not match the namespace sent on the request"));
    }
    const parsed = parseGameServerRequest(json);
    if (!parsed.ok) return reply(Status.invalid(Status.GAME_SERVERS, parsed.name, parsed.causes));
    const result = world.createGameServer(time.now(), namespace, parsed.request);
    if (result.kind === "exists") return reply(Status.alreadyExists(Status.GAME_SERVERS, result.name));
    return { status: 201, body: result.gameServer };
  }

  function allocate(namespace: string, bodyText: string): Reply {
    let json: unknown;
    try {
      json = JSON.parse(bodyText);
    } catch {
      return reply(Status.badRequest("the request body is not valid JSON"));
    }
    const parsed = parseAllocationRequest(json);
    if (!parsed.ok) return reply(Status.invalid(Status.ALLOCATIONS, "", parsed.causes));
    const nowMs = now();
    if (watchFaults.contention()) {
      return { status: 201, body: allocationResponse(namespace, parsed.request, AllocationState.CONTENTION, undefined, world.timestamp(nowMs)) };
    }
    const result = world.allocate(nowMs, namespace, parsed.request);
    const gameServer = result.state === AllocationState.ALLOCATED ? result.gameServer : undefined;
    return { status: 201, body: allocationResponse(namespace, parsed.request, result.state, gameServer, world.timestamp(nowMs)) };
  }

  function writeEvent(res: ServerResponse, type: string, object: unknown, then?: () => void): void {
    res.write(`${JSON.stringify({ type, object })}\n`, then);
  }

  function bookmarkObject(extra?: Record<string, string>): unknown {
    return {
      kind: "GameServer",
      apiVersion: "agones.dev/v1",
      metadata: { resourceVersion: String(store.rv), ...(extra === undefined ? {} : { annotations: extra }) },
    };
  }

  function watch(res: ServerResponse, route: { namespace: string | undefined }, url: URL): void {
    const filter = filterOf(route, url);
    if ("status" in filter) return send(res, filter);
    const params = url.searchParams;
    const rvText = params.get("resourceVersion") ?? "";
    const rv = rvText === "" ? 0 : parseRv(rvText);
    if (rv === undefined) return send(res, reply(Status.badRequest(`invalid resource version: ${rvText}`)));
    const timeoutText = params.get("timeoutSeconds");
    const timeoutS = timeoutText === null ? undefined : Number(timeoutText);
    if (timeoutS !== undefined && !(Number.isInteger(timeoutS) && timeoutS >= 0)) {
      return send(res, reply(Status.badRequest(`invalid timeoutSeconds: ${timeoutText}`)));
    }
    const bookmarks = params.get("allowWatchBookmarks") === "true";
    const sendInitialEvents = params.get("sendInitialEvents") === "true";
    if (sendInitialEvents && params.get("resourceVersionMatch") !== "NotOlderThan") {
      return send(res, reply(Status.invalid(Status.GAME_SERVERS, "", [{ reason: "FieldValueForbidden", field: "sendInitialEvents", message: "Forbidden: sendInitialEvents requires resourceVersionMatch=NotOlderThan" }])));
    }
    now();
    const start = watchFaults.start();
    const replay = rvText === "" || rvText === "0" || sendInitialEvents ? undefined : store.since(rv);
    const expired = start === "gone" || replay?.kind === "expired";
    if (expired && watchFaults.goneAs === "http") {
      return send(res, reply(Status.expired(rvText, String(store.oldestRv))));
    }
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private" });
    res.flushHeaders();
    if (expired) {
      writeEvent(res, "ERROR", Status.expired(rvText, String(store.oldestRv)));
      res.end();
      return;
    }

    // Filled in as the stream gets going; cleanup may run (the client hung up) before any of them exist.
    const held: { timer?: NodeJS.Timeout; bookmarkTimer?: NodeJS.Timeout; unsubscribe?: () => void } = {};
    const entry: OpenWatch = {
      res,
      bookmarks,
      silent: start === "silent",
      end() {
        cleanup();
        if (!res.destroyed) res.end();
      },
      bookmark() {
        if (!entry.silent && !res.destroyed) writeEvent(res, "BOOKMARK", bookmarkObject());
      },
    };
    const cleanup = (): void => {
      watches.delete(entry);
      held.unsubscribe?.();
      clearTimeout(held.timer);
      clearInterval(held.bookmarkTimer);
    };
    watches.add(entry);
    res.on("close", cleanup);
    if (entry.silent) return; // A dead connection: it neither talks nor ends; only the client can give up.

    const deliver = (type: string, object: GameServer): boolean => {
      if (entry.silent || res.destroyed) return false;
      if (watchFaults.dropAfterEvent()) {
        // Cut once the event is on the wire, so the client sees it and then a broken stream.
        entry.silent = true;
        writeEvent(res, type, object, () => res.socket?.destroy());
        return false;
      }
      writeEvent(res, type, object);
      return true;
    };
    const onChange = (change: Change<GameServer>): void => {
      const type = viewOf(filter, change);
      if (type !== undefined) deliver(type, change.object);
    };

    if (replay === undefined) {
      for (const object of store.list(filter).items) if (!deliver("ADDED", object)) return;
      if (sendInitialEvents && bookmarks) writeEvent(res, "BOOKMARK", bookmarkObject({ "k8s.io/initial-events-end": "true" }));
    } else if (replay.kind === "changes") {
      for (const change of replay.changes) {
        const type = viewOf(filter, change);
        if (type !== undefined && !deliver(type, change.object)) return;
      }
    }
    held.unsubscribe = store.subscribe(onChange);

    const seconds = timeoutS ?? DEFAULT_WATCH_TIMEOUT_S * (1 + watchRandom.next());
    held.timer = setTimeout(() => {
      // A last bookmark lets the client resume exactly where this stream stopped.
      if (bookmarks) entry.bookmark();
      entry.end();
    }, Math.min(MAX_TIMER_MS, Math.round((seconds * 1000) / time.timeScale)));
    if (bookmarks) {
      held.bookmarkTimer = setInterval(() => entry.bookmark(), Math.max(1, Math.round(options.bookmarkIntervalMs / time.timeScale)));
    }
  }

  function allowed(verb: Verb): boolean {
    return permissions === undefined || permissions.has(verb);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body.kind === "aborted" || closing !== undefined) return;
    if (body.kind === "tooLarge") {
      send(res, { ...reply(Status.statusOfCode(413, `request entity too large: limit is ${MAX_BODY_BYTES}`)), headers: { connection: "close" } });
      return;
    }
    const url = new URL(req.url ?? "/", "https://simulator.invalid");
    const segments = pathSegments(url.pathname);
    const route = segments === undefined ? undefined : matchRoute(segments);
    // Authentication comes before routing, as on a real apiserver: a wrong token learns nothing.
    const presented = bearerToken(req);
    if (presented === undefined || !tokenEquals(presented, options.token)) {
      send(res, reply(Status.unauthorized()));
      return;
    }
    if (route === undefined) {
      send(res, reply({ ...Status.statusOfCode(404, "the server could not find the requested resource"), details: {} }));
      return;
    }
    if (route.namespace !== undefined && !NAMESPACE_NAME.test(route.namespace)) {
      send(res, reply(Status.notFound({ group: "", plural: "namespaces", kind: "Namespace" }, route.namespace)));
      return;
    }
    const method = req.method ?? "GET";
    const operation = ((): Operation | undefined => {
      if (route.kind === "gameservers") return method === "GET" ? (isWatch(url) ? "watch" : "list") : method === "POST" && route.namespace !== undefined ? "create" : undefined;
      if (route.kind === "gameserver") return method === "GET" ? "get" : method === "DELETE" ? "delete" : undefined;
      return method === "POST" ? "allocate" : undefined;
    })();
    if (operation === undefined) {
      send(res, { ...reply(Status.methodNotAllowed(method)), headers: { allow: route.kind === "allocations" ? "POST" : route.kind === "gameserver" ? "GET, DELETE" : "GET, POST" } });
      return;
    }
    requests.set(operation, (requests.get(operation) ?? 0) + 1);
    try {
      options.onRequest?.(operation);
    } catch {
      // A test's or benchmark's hook must not break the API it observes.
    }
    if (!allowed(operation)) {
      const resource = operation === "allocate" ? Status.ALLOCATIONS : Status.GAME_SERVERS;
      const verb = operation === "allocate" ? "create" : operation;
      send(res, reply(Status.forbidden(resource, options.user, verb, route.namespace, route.kind === "gameserver" ? route.name : undefined)));
      return;
    }

    let malformed: MalformedKind | undefined;
    if (operation === "list" || operation === "get") {
      const left = await playFault(listFaults, route.namespace, req, res, (delayMs) => waits.wait(delayMs), KUBERNETES_FAULT_ANSWERS);
      if (left === undefined) return;
      malformed = left.malformed;
    }

    let answer: Reply;
    switch (operation) {
      case "watch":
        watch(res, route, url);
        ticker.changed();
        return;
      case "list":
        now();
        answer = list(route, url);
        break;
      case "get": {
        const { namespace, name } = route as { namespace: string; name: string };
        now();
        const gs = store.get(namespace, name);
        answer = gs === undefined ? reply(Status.notFound(Status.GAME_SERVERS, name)) : { status: 200, body: gs };
        break;
      }
      case "create":
        answer = create(route.namespace!, body.text);
        break;
      case "delete": {
        const { namespace, name } = route as { namespace: string; name: string };
        const gs = world.deleteGameServer(time.now(), namespace, name);
        answer = gs === undefined ? reply(Status.notFound(Status.GAME_SERVERS, name)) : { status: 200, body: gs };
        break;
      }
      case "allocate":
        answer = allocate(route.namespace!, body.text);
        break;
      default: {
        const unreachable: never = operation;
        throw new Error(`unhandled operation ${String(unreachable)}`);
      }
    }
    ticker.changed();
    if (malformed !== undefined && answer.status === 200) {
      listFaults.record("malformed");
      send(res, answer, malformBody(answer.body, malformed, listFaults.random));
      return;
    }
    send(res, answer);
  }

  const server = createServer({ key: options.tls.keyPem, cert: options.tls.certPem }, (req, res) => {
    handle(req, res).catch(() => {
      // Bad input must never crash the simulator: answer 500 if we still can, else drop the connection.
      if (!res.headersSent && !res.destroyed) send(res, reply(Status.statusOfCode(500, "internal error")));
      else res.destroy();
    });
  });
  server.on("secureConnection", (socket: Socket) => {
    connectionCount++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", (_error, socket) => socket.destroy());

  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      ticker.stop();
      waits.cancelAll();
      for (const entry of [...watches]) entry.end();
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  }

  return {
    server,
    changed: () => ticker.changed(),
    setPermissions(verbs) {
      permissions = verbs === undefined ? undefined : new Set(verbs);
    },
    requestCount(operation) {
      if (operation !== undefined) return requests.get(operation) ?? 0;
      let sum = 0;
      for (const n of requests.values()) sum += n;
      return sum;
    },
    get connectionCount() {
      return connectionCount;
    },
    get openWatchCount() {
      return watches.size;
    },
    dropWatches() {
      const open = [...watches];
      for (const entry of open) entry.res.socket?.destroy();
      return open.length;
    },
    silenceWatches() {
      const open = [...watches];
      for (const entry of open) {
        entry.silent = true;
        entry.end = () => undefined;
      }
      return open.length;
    },
    sendBookmarks() {
      let sent = 0;
      for (const entry of watches) {
        if (entry.bookmarks && !entry.silent) {
          entry.bookmark();
          sent++;
        }
      }
      return sent;
    },
    close,
  };
}
