/**
 * A fake Edgegap deployments API on loopback (node:http), for tests, demos and benchmarks:
 * `POST /v2/deployments` (202, only the request id), `GET /v1/status/{id}`, `DELETE /v1/stop/{id}`
 * (200 or 202, 410 once terminated), the per-organisation rate limits as 429s, webhooks called once
 * each with no retry, seeded lifecycles, ground truth and fault injection.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "../../core/errors.js";
import { CreateDeploymentSchema, EDGEGAP_REQUEST_ID_PATTERN, type EdgegapStatus } from "../../providers/edgegap/schemas.js";
import { EDGEGAP_RATE_LIMITS } from "../../providers/edgegap/rate-limits.js";
import type { EdgegapWebhookEvent } from "../../providers/edgegap/webhooks.js";
import { type FaultAnswers, FaultInjector, malformBody, type FaultOptions, playFault } from "../faults.js";
import { digest, MAX_BODY_BYTES, MAX_TIMER_MS, pathSegments, readBody, send, type Reply } from "../http-kit.js";
import { createRandom } from "../random.js";
import { RateWindow } from "../rate-window.js";
import { createSimulatedTime, performanceClock, type NowClock, type SimulatedTime } from "../simulated-time.js";
import { WebhookCaller, type WebhookCounts, type WebhookFaults } from "./webhook-caller.js";
import { EdgegapWorld, type EdgegapDeploymentTruth, type EdgegapScenario, type EdgegapWorldOptions } from "./world.js";

export const EdgegapEndpoint = { CREATE: "create", STATUS: "status", STOP: "stop" } as const;
export type EdgegapEndpoint = (typeof EdgegapEndpoint)[keyof typeof EdgegapEndpoint];

export interface EdgegapSimulatorOptions extends Omit<EdgegapWorldOptions, "onTransition"> {
  /** Port to listen on. Default 0 (any free port). */
  port?: number | undefined;
  /** Interface to listen on. Default "127.0.0.1". */
  hostname?: string | undefined;
  /** Simulated ms per real ms. Default 1. */
  timeScale?: number | undefined;
  /** The API token every call must carry as `Authorization: token <key>`. Default: any non-empty token. */
  token?: string | undefined;
  /** Requests per real second per endpoint before 429s. Default create 40, status 20, stop unlimited (undocumented). */
  rateLimits?: Partial<Record<EdgegapEndpoint, number>> | undefined;
  /** Retry-After (seconds) on a rate-limit 429. Default none (Edgegap documents none). */
  rateLimitRetryAfterSeconds?: number | undefined;
  /** What an unknown request id answers on status: 404 (the spec) or 400 (the live API, per Edgegap's guide). Default 404. */
  unknownRequestStatus?: 404 | 400 | undefined;
  /** Faults on `GET /v1/status` (5xx, random 429s, malformed bodies, drops, latency). Default none. */
  faults?: FaultOptions | undefined;
  /** Faults on webhook calls (dropped, delayed). Default none. */
  webhookFaults?: WebhookFaults | undefined;
  /** Source of real time in ms. Default performance.now(). */
  clock?: NowClock | undefined;
}

/** Status bodies cannot do without these; a "missing field" fault drops one of them. */
const ESSENTIAL_STATUS_FIELDS = ["request_id", "current_status"];

const WEBHOOK_OF: Partial<Record<EdgegapStatus, EdgegapWebhookEvent>> = { READY: "ready", ERROR: "error", TERMINATED: "terminated" };

function apiError(status: number, message: string, headers?: Record<string, string>): Reply {
  return { status, body: { message }, headers };
}

/** Injected failures as Edgegap says them. */
const EDGEGAP_FAULT_ANSWERS: FaultAnswers = {
  rateLimited: (retryAfter) => apiError(429, "Too Many Requests", retryAfter === undefined ? {} : { "retry-after": retryAfter }),
  error: (status) => ({ status, body: { message: STATUS_CODES[status] ?? "Error", details: {} } }),
};

export class EdgegapSimulator {
  /** Base URL, e.g. "http://127.0.0.1:41234" (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly #world: EdgegapWorld;
  readonly #time: SimulatedTime;
  readonly #faults: FaultInjector;
  readonly #webhooks: WebhookCaller;
  readonly #server: ReturnType<typeof createServer>;
  readonly #limits: Map<EdgegapEndpoint, RateWindow>;
  readonly #options: EdgegapSimulatorOptions;
  readonly #requests = new Map<EdgegapEndpoint, number>();
  /** `GET /v1/status` requests by the request id they named (refused ones included: each cost a request). */
  readonly #statusRequests = new Map<string, number>();
  #tick: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  private constructor(options: EdgegapSimulatorOptions, parts: { world: EdgegapWorld; time: SimulatedTime; webhooks: WebhookCaller }) {
    this.#options = options;
    this.#world = parts.world;
    this.#time = parts.time;
    this.#webhooks = parts.webhooks;
    this.#faults = new FaultInjector(options.seed ?? 1, options.faults);
    const limits = { create: EDGEGAP_RATE_LIMITS.createDeployment, status: EDGEGAP_RATE_LIMITS.status, ...options.rateLimits };
    this.#limits = new Map(Object.entries(limits).filter(([, n]) => n !== undefined && Number.isFinite(n)).map(([e, n]) => [e as EdgegapEndpoint, new RateWindow(n)]));
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent && !res.destroyed) send(res, apiError(500, "Internal server error"));
        else res.destroy();
      });
    });
    this.url = "";
    this.port = 0;
  }

  /** Starts a fake Edgegap on 127.0.0.1, on a free port by default. */
  static async start(options: EdgegapSimulatorOptions = {}): Promise<EdgegapSimulator> {
    if (options.unknownRequestStatus !== undefined && options.unknownRequestStatus !== 404 && options.unknownRequestStatus !== 400) {
      throw new ConfigError("unknownRequestStatus must be 404 or 400");
    }
    const time = createSimulatedTime(options.clock ?? performanceClock, options.timeScale ?? 1);
    const webhooks = new WebhookCaller(createRandom(options.seed ?? 1, "edgegap-webhooks"));
    webhooks.faults = { ...options.webhookFaults };
    const hook: { transitioned: (id: string, status: EdgegapStatus) => void } = { transitioned: () => undefined };
    const world = new EdgegapWorld({ ...options, onTransition: (id, status) => hook.transitioned(id, status) });
    const simulator = new EdgegapSimulator(options, { world, time, webhooks });
    hook.transitioned = (id, status) => simulator.#transitioned(id, status);
    const server = simulator.#server;
    const hostname = options.hostname ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, hostname, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname;
    Object.assign(simulator, { url: `http://${urlHost}:${port}`, port });
    return simulator;
  }

  /** Creates a deployment without HTTP, as `POST /v2/deployments` would; returns its request id. */
  createDeployment(options: { scenario?: EdgegapScenario | undefined; webhooks?: Partial<Record<EdgegapWebhookEvent, string>> | undefined } = {}): string {
    const id = this.#world.create(this.#time.now(), { application: "sim-app", version: "v1", ...options });
    this.#rearm();
    return id;
  }

  /** Stops a deployment now, as `DELETE /v1/stop/{id}` would. */
  stopDeployment(requestId: string): ReturnType<EdgegapWorld["stop"]> {
    const outcome = this.#world.stop(this.#time.now(), requestId);
    this.#rearm();
    return outcome;
  }

  /** Stops a deployment at simulated `atMs` (as max_duration would). */
  scheduleStop(requestId: string, atMs: number): void {
    this.#world.scheduleStop(this.#time.now(), requestId, atMs);
    this.#rearm();
  }

  /** Ground truth of a deployment, terminated ones included. */
  truth(requestId: string): EdgegapDeploymentTruth | undefined {
    return this.#world.truth(this.#time.now(), requestId);
  }

  /** Every request id ever created, in creation order. */
  deployments(): string[] {
    return this.#world.requestIds();
  }

  /**
   * A forged webhook: calls `event`'s URL (the deployment's own, or `url`) with the deployment's current
   * status body, whatever its state, as an attacker or a replay would.
   */
  forgeWebhook(requestId: string, event: EdgegapWebhookEvent, url?: string): void {
    const target = url ?? this.#world.truth(this.#time.now(), requestId)?.webhooks[event];
    const body = this.#world.statusBody(this.#time.now(), requestId) ?? { request_id: requestId };
    if (target === undefined) throw new ConfigError(`deployment ${requestId} has no ${event} webhook; pass a url`);
    this.#webhooks.call(target, body, `${requestId}:${event}:forged`, true);
  }

  /** Answers every request to `endpoint` with 429 for the next `durationMs` real ms. */
  rateLimitBurst(endpoint: EdgegapEndpoint, durationMs: number): void {
    let window = this.#limits.get(endpoint);
    if (window === undefined) this.#limits.set(endpoint, (window = new RateWindow(Infinity)));
    window.block(this.#time.clock.now() + durationMs);
  }

  setFaults(faults: FaultOptions): void {
    this.#faults.setFaults(faults);
  }

  setWebhookFaults(faults: WebhookFaults): void {
    this.#webhooks.faults = { ...faults };
  }

  /** Injected faults by kind ("http500", "rateLimit", "malformed", "drop", "latency", "limit429"). */
  faultCounts(): Record<string, number> {
    return this.#faults.counts();
  }

  webhookCounts(): WebhookCounts & { readonly sentAt: ReadonlyMap<string, number> } {
    return { ...this.#webhooks.counts, sentAt: this.#webhooks.sentAt };
  }

  /** Requests served, optionally of one endpoint. */
  requestCount(endpoint?: EdgegapEndpoint): number {
    if (endpoint !== undefined) return this.#requests.get(endpoint) ?? 0;
    let sum = 0;
    for (const n of this.#requests.values()) sum += n;
    return sum;
  }

  /** `GET /v1/status/{requestId}` requests received for one deployment (refused and rate-limited ones included). */
  statusRequestCount(requestId: string): number {
    return this.#statusRequests.get(requestId) ?? 0;
  }

  /** The real time (performance.now() by default) of simulated `simulatedMs`: when a truth entry happened. */
  realTimeOf(simulatedMs: number): number {
    return this.#time.realTimeOf(simulatedMs);
  }

  /** Simulated ms since start. */
  now(): number {
    return this.#time.now();
  }

  /** Closes the server and every socket, cancels delayed webhooks and waits for those in flight. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#tick !== undefined) clearTimeout(this.#tick);
      this.#tick = undefined;
      await this.#webhooks.close();
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeAllConnections();
      });
    })();
    return this.#closing;
  }

  #transitioned(requestId: string, status: EdgegapStatus): void {
    const event = WEBHOOK_OF[status];
    if (event === undefined) return;
    const truth = this.#world.truth(this.#time.now(), requestId);
    const url = truth?.webhooks[event];
    if (url === undefined) return;
    const body = this.#world.statusBody(this.#time.now(), requestId);
    this.#webhooks.call(url, body, `${requestId}:${event}`);
  }

  /** Advances the world at its next due change, so webhooks go out on time without requests. */
  #rearm(): void {
    if (this.#closing !== undefined) return;
    if (this.#tick !== undefined) clearTimeout(this.#tick);
    this.#tick = undefined;
    const nextAtMs = this.#world.nextEventAtMs();
    if (nextAtMs === undefined) return;
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(this.#time.realTimeOf(nextAtMs) - this.#time.clock.now())));
    this.#tick = setTimeout(() => {
      this.#tick = undefined;
      this.#world.advance(this.#time.now());
      this.#rearm();
    }, delayMs);
    this.#tick.unref();
  }

  #authorized(req: IncomingMessage): boolean {
    const presented = /^token +(\S.*)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim();
    if (presented === undefined || presented.length === 0) return false;
    return this.#options.token === undefined || timingSafeEqual(digest(presented), digest(this.#options.token));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body.kind === "aborted" || this.#closing !== undefined) return;
    if (body.kind === "tooLarge") {
      send(res, apiError(413, `Request body larger than ${MAX_BODY_BYTES} bytes`, { connection: "close" }));
      return;
    }
    const segments = pathSegments(new URL(req.url ?? "/", "http://edgegap.invalid").pathname);
    const route = segments === undefined ? undefined : matchRoute(segments, req.method ?? "");
    if (route === undefined) {
      send(res, apiError(404, "Not found"));
      return;
    }
    this.#requests.set(route.endpoint, (this.#requests.get(route.endpoint) ?? 0) + 1);
    if (route.endpoint === EdgegapEndpoint.STATUS && route.requestId !== undefined && EDGEGAP_REQUEST_ID_PATTERN.test(route.requestId)) {
      this.#statusRequests.set(route.requestId, (this.#statusRequests.get(route.requestId) ?? 0) + 1);
    }
    // Never say why a token was refused, and never repeat it.
    if (!this.#authorized(req)) {
      send(res, apiError(401, "Unauthorized - Missing Token"));
      return;
    }
    if (this.#limits.get(route.endpoint)?.admit(this.#time.clock.now()) === false) {
      this.#faults.record("limit429");
      const seconds = this.#options.rateLimitRetryAfterSeconds;
      send(res, apiError(429, "Too Many Requests", seconds === undefined ? {} : { "retry-after": String(seconds) }));
      return;
    }
    if (route.endpoint === EdgegapEndpoint.STATUS) {
      await this.#status(req, res, route.requestId ?? "");
      return;
    }
    send(res, route.endpoint === EdgegapEndpoint.CREATE ? this.#create(body.text) : this.#stop(route.requestId ?? ""));
    this.#rearm();
  }

  async #status(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    // Unreferenced: a slow answer must not hold the process open past close().
    const wait = (delayMs: number): Promise<boolean> =>
      new Promise((resolve) => setTimeout(() => resolve(this.#closing === undefined), Math.min(delayMs, MAX_TIMER_MS)).unref());
    const left = await playFault(this.#faults, requestId, req, res, wait, EDGEGAP_FAULT_ANSWERS);
    if (left === undefined) return;
    const status = EDGEGAP_REQUEST_ID_PATTERN.test(requestId) ? this.#world.statusBody(this.#time.now(), requestId) : undefined;
    this.#rearm();
    if (status === undefined) {
      send(res, apiError(this.#options.unknownRequestStatus ?? 404, `Deployment ${requestId.slice(0, 100)} not found`));
      return;
    }
    if (left.malformed !== undefined) {
      this.#faults.record("malformed");
      send(res, { status: 200 }, malformBody(status, left.malformed, this.#faults.random, ESSENTIAL_STATUS_FIELDS));
      return;
    }
    send(res, { status: 200, body: status });
  }

  #create(text: string): Reply {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { status: 400, body: { message: "Request body must be JSON", details: {} } };
    }
    const parsed = CreateDeploymentSchema.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      return { status: 400, body: { message: `Invalid request body: ${detail}`, details: {} } };
    }
    const { data } = parsed;
    const requestId = this.#world.create(this.#time.now(), {
      application: data.application,
      version: data.version,
      tags: data.tags,
      webhooks: {
        ...(data.webhook_on_ready === undefined ? {} : { ready: data.webhook_on_ready.url }),
        ...(data.webhook_on_error === undefined ? {} : { error: data.webhook_on_error.url }),
        ...(data.webhook_on_terminated === undefined ? {} : { terminated: data.webhook_on_terminated.url }),
      },
    });
    return { status: 202, body: { request_id: requestId } };
  }

  #stop(requestId: string): Reply {
    const outcome = EDGEGAP_REQUEST_ID_PATTERN.test(requestId) ? this.#world.stop(this.#time.now(), requestId) : "unknown";
    switch (outcome) {
      case "unknown":
        return apiError(404, `Deployment ${requestId.slice(0, 100)} not found`);
      case "terminated":
        return apiError(410, "Instance Already terminated");
      case "stopping":
        return { status: 200, body: { message: `${requestId} - Delete request will be processed soon`, deployment_summary: this.#world.statusBody(this.#time.now(), requestId) } };
      case "pending":
        return apiError(202, `${requestId} - Delete request will be processed once the deployment is ready or in error`);
      default: {
        const unreachable: never = outcome;
        throw new Error(`unhandled stop outcome ${String(unreachable)}`);
      }
    }
  }
}

function matchRoute(segments: readonly string[], method: string): { endpoint: EdgegapEndpoint; requestId?: string } | undefined {
  const [version, what, id] = segments;
  if (segments.length === 2 && version === "v2" && what === "deployments" && method === "POST") return { endpoint: EdgegapEndpoint.CREATE };
  if (segments.length === 3 && version === "v1" && what === "status" && id !== undefined && method === "GET") return { endpoint: EdgegapEndpoint.STATUS, requestId: id };
  if (segments.length === 3 && version === "v1" && what === "stop" && id !== undefined && method === "DELETE") return { endpoint: EdgegapEndpoint.STOP, requestId: id };
  return undefined;
}
