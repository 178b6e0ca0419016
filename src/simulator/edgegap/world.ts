/**
 * The simulated Edgegap organisation: deployments with seeded lifecycles and their ground truth. No
 * timers and no I/O: every method takes the simulated time `nowMs` and first runs every status change
 * due by then, in time order, so results depend only on the seed, the calls and their times.
 *
 *   create ─▶ INITIALIZING ─▶ SEEKING ─▶ SEEKED ─▶ SCANNING ─▶ DEPLOYING ─▶ READY ─┐
 *                                                                  └──▶ ERROR ─────┤ stop
 *                                                                   TERMINATED ◀── TERMINATING
 *
 * The real order of the starting statuses is not documented; this is the enum's names in a plausible
 * order. A stop asked for before READY or ERROR takes effect on reaching either (the reference, §5.1).
 */
import { ConfigError } from "../../core/errors.js";
import { EDGEGAP_STARTING_STATUSES, wireStatus, type EdgegapStatus } from "../../providers/edgegap/schemas.js";
import type { EdgegapWebhookEvent } from "../../providers/edgegap/webhooks.js";
import { EventQueue } from "../event-queue.js";
import { createRandom, type Random } from "../random.js";

export const EdgegapScenario = {
  /** Becomes READY after a seeded, log-normal start. */
  READY: "ready",
  /** Fails with ERROR (and an error_detail) where it would have become READY. */
  ERROR: "error",
} as const;
export type EdgegapScenario = (typeof EdgegapScenario)[keyof typeof EdgegapScenario];

/** A port of the simulated app version. */
export interface EdgegapPortSpec {
  readonly name: string;
  readonly internal: number;
  /** `UDP`, `TCP`, `HTTP`, `WS`, ... as Edgegap spells them. */
  readonly protocol: string;
  readonly tlsUpgrade?: boolean | undefined;
}

export interface EdgegapWorldOptions {
  /** Seed of every draw: ids, ports, delays, scenarios. Default 1. */
  seed?: number | undefined;
  /** `public_ip` of every deployment. Default "127.0.0.1". */
  publicIp?: string | undefined;
  /** `fqdn` is `<request_id>.<fqdnSuffix>`. Default "localhost" (resolves to loopback). */
  fqdnSuffix?: string | undefined;
  /** The app version's ports. Default one: `gameport`, 7777, UDP. */
  ports?: readonly EdgegapPortSpec[] | undefined;
  /** Median time from create to READY, simulated ms (log-normal, sigma 0.35). Default 8,000. */
  readyMedianMs?: number | undefined;
  /** Chance that a deployment created over HTTP ends in ERROR. Default 0. */
  errorProbability?: number | undefined;
  /** Uniform range from TERMINATING to TERMINATED, simulated ms. Default [1,000, 3,000]. */
  terminatingMs?: readonly [number, number] | undefined;
  /** Answer with the 2024 spec's fields (sockets, sessions, ports.*.proxy; no max_duration). Default false. */
  legacyFields?: boolean | undefined;
  /** Called on every status change, after it is committed. A throwing hook is ignored. */
  onTransition?: ((requestId: string, status: EdgegapStatus, atMs: number) => void) | undefined;
}

export interface CreateDeploymentInput {
  readonly application: string;
  readonly version: string;
  readonly tags?: readonly string[] | undefined;
  /** The `webhook_on_*` URLs of the create call. */
  readonly webhooks?: Partial<Record<EdgegapWebhookEvent, string>> | undefined;
  /** Default: drawn (ERROR with `errorProbability`). */
  readonly scenario?: EdgegapScenario | undefined;
}

export interface EdgegapTruthEntry {
  /** Simulated ms. */
  readonly at: number;
  readonly status: EdgegapStatus;
}

/** What really happened to a deployment. */
export interface EdgegapDeploymentTruth {
  readonly requestId: string;
  readonly status: EdgegapStatus;
  readonly scenario: EdgegapScenario;
  readonly fqdn: string;
  readonly publicIp: string;
  /** External port by port name. */
  readonly externalPorts: Readonly<Record<string, number>>;
  readonly errorDetail: string | undefined;
  readonly webhooks: Readonly<Partial<Record<EdgegapWebhookEvent, string>>>;
  readonly history: readonly EdgegapTruthEntry[];
}

/** What `DELETE /v1/stop/{id}` found. */
export type StopOutcome = "unknown" | "terminated" | "stopping" | "pending";

interface Deployment {
  readonly requestId: string;
  readonly application: string;
  readonly version: string;
  readonly tags: readonly string[];
  readonly scenario: EdgegapScenario;
  readonly external: ReadonlyMap<string, number>;
  readonly webhooks: Partial<Record<EdgegapWebhookEvent, string>>;
  readonly history: EdgegapTruthEntry[];
  status: EdgegapStatus;
  stopRequested: boolean;
}

type WorldEvent = { readonly requestId: string; readonly status: EdgegapStatus };

const ERROR_DETAIL = "Pull image timeout exceeded";
const PORT_MIN = 30_000;
const PORT_MAX = 60_000;
const DEFAULT_PORTS: readonly EdgegapPortSpec[] = [{ name: "gameport", internal: 7777, protocol: "UDP" }];

export class EdgegapWorld {
  readonly #random: Random;
  readonly #queue = new EventQueue<WorldEvent>();
  readonly #deployments = new Map<string, Deployment>();
  readonly #usedPorts = new Set<number>();
  readonly #publicIp: string;
  readonly #fqdnSuffix: string;
  readonly #ports: readonly EdgegapPortSpec[];
  readonly #readyMedianMs: number;
  readonly #errorProbability: number;
  readonly #terminatingMs: readonly [number, number];
  readonly #legacy: boolean;
  readonly #onTransition: EdgegapWorldOptions["onTransition"];
  #pending: Array<{ requestId: string; status: EdgegapStatus; at: number }> = [];

  constructor(options: EdgegapWorldOptions = {}) {
    this.#random = createRandom(options.seed ?? 1, "edgegap-world");
    this.#publicIp = options.publicIp ?? "127.0.0.1";
    this.#fqdnSuffix = options.fqdnSuffix ?? "localhost";
    this.#ports = options.ports ?? DEFAULT_PORTS;
    this.#readyMedianMs = options.readyMedianMs ?? 8_000;
    this.#errorProbability = options.errorProbability ?? 0;
    this.#terminatingMs = options.terminatingMs ?? [1_000, 3_000];
    this.#legacy = options.legacyFields ?? false;
    this.#onTransition = options.onTransition;
    if (this.#ports.length === 0 || new Set(this.#ports.map((p) => p.name)).size !== this.#ports.length) {
      throw new ConfigError("ports must be a non-empty list with unique names");
    }
    if (!(this.#readyMedianMs > 0)) throw new ConfigError("readyMedianMs must be positive");
    if (!(this.#errorProbability >= 0 && this.#errorProbability <= 1)) throw new ConfigError("errorProbability must be in [0, 1]");
    const [min, max] = this.#terminatingMs;
    if (!(min >= 0 && max >= min)) throw new ConfigError("terminatingMs must be [min, max] with 0 <= min <= max");
  }

  /** When the next status change is due, or undefined. */
  nextEventAtMs(): number | undefined {
    return this.#queue.peekAtMs();
  }

  advance(nowMs: number): void {
    this.#run(nowMs, () => undefined);
  }

  create(nowMs: number, input: CreateDeploymentInput): string {
    return this.#run(nowMs, () => {
      const scenario = input.scenario ?? (this.#random.chance(this.#errorProbability) ? EdgegapScenario.ERROR : EdgegapScenario.READY);
      const requestId = this.#newRequestId();
      const external = new Map(this.#ports.map((p) => [p.name, this.#newPort()] as const));
      const deployment: Deployment = {
        requestId,
        application: input.application,
        version: input.version,
        tags: [...(input.tags ?? [])],
        scenario,
        external,
        webhooks: { ...input.webhooks },
        history: [],
        status: "INITIALIZING",
        stopRequested: false,
      };
      this.#deployments.set(requestId, deployment);
      this.#record(deployment, "INITIALIZING");
      // Each later starting status after a share of the start; READY (or ERROR) at its end.
      const totalMs = Math.round(Math.min(120_000, Math.max(500, this.#random.lognormal(this.#readyMedianMs, 0.35))));
      const steps = EDGEGAP_STARTING_STATUSES.slice(1);
      steps.forEach((status, i) => this.#queue.push(this.#queue.clockMs + Math.round((totalMs * (i + 1)) / (steps.length + 1)), { requestId, status }));
      this.#queue.push(this.#queue.clockMs + totalMs, { requestId, status: scenario === EdgegapScenario.ERROR ? "ERROR" : "READY" });
      return requestId;
    });
  }

  /** Asks a deployment to stop: at once when READY or ERROR, else on reaching either. */
  stop(nowMs: number, requestId: string): StopOutcome {
    return this.#run(nowMs, () => {
      const deployment = this.#deployments.get(requestId);
      if (deployment === undefined) return "unknown";
      if (deployment.status === "TERMINATED") return "terminated";
      if (deployment.status === "TERMINATING") return "stopping";
      if (deployment.status === "READY" || deployment.status === "ERROR") {
        this.#terminate(deployment);
        return "stopping";
      }
      deployment.stopRequested = true;
      return "pending";
    });
  }

  /** Stops a deployment at simulated `atMs`, as `max_duration` or a self-stop would. */
  scheduleStop(nowMs: number, requestId: string, atMs: number): void {
    this.#run(nowMs, () => this.#queue.push(Math.max(atMs, this.#queue.clockMs), { requestId, status: "TERMINATING" }));
  }

  has(requestId: string): boolean {
    return this.#deployments.has(requestId);
  }

  requestIds(): string[] {
    return [...this.#deployments.keys()];
  }

  truth(nowMs: number, requestId: string): EdgegapDeploymentTruth | undefined {
    return this.#run(nowMs, () => {
      const d = this.#deployments.get(requestId);
      if (d === undefined) return undefined;
      return Object.freeze({
        requestId,
        status: d.status,
        scenario: d.scenario,
        fqdn: this.#fqdn(d),
        publicIp: this.#publicIp,
        externalPorts: Object.freeze(Object.fromEntries(d.external)),
        errorDetail: d.status === "ERROR" || d.history.some((e) => e.status === "ERROR") ? ERROR_DETAIL : undefined,
        webhooks: Object.freeze({ ...d.webhooks }),
        history: Object.freeze([...d.history]),
      });
    });
  }

  /** The `GET /v1/status/{id}` body, or undefined for an unknown id. */
  statusBody(nowMs: number, requestId: string): Record<string, unknown> | undefined {
    return this.#run(nowMs, () => {
      const d = this.#deployments.get(requestId);
      return d === undefined ? undefined : this.#body(d);
    });
  }

  // ---- internals ----

  #run<T>(nowMs: number, step: () => T): T {
    return this.#queue.run(nowMs, (event) => this.#handle(event), step, () => this.#flush());
  }

  #handle(event: WorldEvent): void {
    const d = this.#deployments.get(event.requestId);
    if (d === undefined || d.status === "TERMINATED") return;
    if (event.status === "TERMINATED") {
      if (d.status === "TERMINATING") this.#record(d, "TERMINATED");
      return;
    }
    if (d.status === "TERMINATING") return;
    if (event.status === "TERMINATING") {
      this.#terminate(d);
      return;
    }
    this.#record(d, event.status);
    if ((event.status === "READY" || event.status === "ERROR") && d.stopRequested) this.#terminate(d);
  }

  #terminate(d: Deployment): void {
    d.stopRequested = false;
    this.#record(d, "TERMINATING");
    const [min, max] = this.#terminatingMs;
    this.#queue.push(this.#queue.clockMs + (max > min ? this.#random.int(min, max + 1) : min), { requestId: d.requestId, status: "TERMINATED" });
  }

  #record(d: Deployment, status: EdgegapStatus): void {
    d.status = status;
    d.history.push(Object.freeze({ at: this.#queue.clockMs, status }));
    this.#pending.push({ requestId: d.requestId, status, at: this.#queue.clockMs });
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const { requestId, status, at } of pending) {
      try {
        this.#onTransition?.(requestId, status, at);
      } catch {
        // A hook is an observer: its failure must not corrupt the world or fail the request that ran it.
      }
    }
  }

  #fqdn(d: Deployment): string {
    return `${d.requestId}.${this.#fqdnSuffix}`;
  }

  #body(d: Deployment): Record<string, unknown> {
    const reached = (status: EdgegapStatus): boolean => d.history.some((e) => e.status === status);
    const readyAt = d.history.find((e) => e.status === "READY")?.at;
    const removedAt = d.history.find((e) => e.status === "TERMINATED")?.at;
    const fqdn = this.#fqdn(d);
    const ports = reached("DEPLOYING")
      ? Object.fromEntries(
          this.#ports.map((p) => {
            const external = d.external.get(p.name)!;
            const port: Record<string, unknown> = {
              external,
              internal: p.internal,
              protocol: p.protocol,
              name: p.name,
              tls_upgrade: p.tlsUpgrade ?? false,
              link: `${/^https?$|^wss?$/i.test(p.protocol) ? `${p.tlsUpgrade === true ? "https" : "http"}://` : ""}${fqdn}:${external}`,
            };
            if (this.#legacy) port.proxy = p.internal;
            return [p.name, port];
          }),
        )
      : {};
    const last = d.history.at(-2)?.status;
    const body: Record<string, unknown> = {
      request_id: d.requestId,
      fqdn,
      public_ip: reached("SEEKED") ? this.#publicIp : null,
      app_name: d.application,
      app_version: d.version,
      current_status: wireStatus(d.status),
      last_status: last === undefined ? null : wireStatus(last),
      running: d.status === "READY",
      start_time: readyAt === undefined ? null : edgegapTime(readyAt),
      elapsed_time: readyAt === undefined ? 0 : Math.max(0, Math.floor((this.#queue.clockMs - readyAt) / 1000)),
      removal_time: removedAt === undefined ? null : edgegapTime(removedAt),
      error: d.status === "ERROR",
      error_detail: d.status === "ERROR" ? ERROR_DETAIL : null,
      ports,
      location: { city: "Montreal", country: "Canada", continent: "North America", administrative_division: "Quebec", timezone: "Eastern Time", latitude: 45.508888, longitude: -73.561668 },
      tags: [...d.tags],
      command: null,
      arguments: null,
    };
    if (this.#legacy) Object.assign(body, { whitelisting_active: false, sessions: [], sockets: "0", sockets_usage: 0 });
    else body.max_duration = 1440;
    return body;
  }

  #newRequestId(): string {
    for (;;) {
      let id = "";
      for (let i = 0; i < 12; i++) id += this.#random.int(0, 16).toString(16);
      if (!this.#deployments.has(id)) return id;
    }
  }

  #newPort(): number {
    if (this.#usedPorts.size >= PORT_MAX - PORT_MIN) throw new ConfigError("the simulator ran out of ports");
    for (;;) {
      const port = this.#random.int(PORT_MIN, PORT_MAX);
      if (!this.#usedPorts.has(port)) {
        this.#usedPorts.add(port);
        return port;
      }
    }
  }
}

/** Edgegap's timestamp form: `2026-04-22 12:00:46.444265` (space-separated, no zone), from simulated ms since 2026-01-01. */
function edgegapTime(simulatedMs: number): string {
  const iso = new Date(Date.UTC(2026, 0, 1) + Math.floor(simulatedMs)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}
