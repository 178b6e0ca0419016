/**
 * The Edgegap third of the chaos soak: deployments on a fake Edgegap (EdgegapSimulator) with seeded
 * lifecycles, each polled through one EdgegapHttpSource in the soak's budgeted fleet, within the source's
 * own budget (Edgegap's organisation limit) inside the fleet's, and the faults of Edgegap's status
 * endpoint: 5xx, malformed bodies, and 429 bursts (rateLimitBurst, with no Retry-After, as Edgegap documents
 * none), on each of which every Edgegap look must pause. Each deployment's `webhook_on_*` calls come to a
 * webhook receiver here, which reads them as the gateway does and makes each a hint (one verifying look, at
 * most one per hint interval); the fake drops and delays some, and forges others, with the right secret and
 * with a wrong one. Each deployment's final report is checked against the fake's truth.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebhookError } from "../../src/core/errors.js";
import type { RoomState } from "../../src/core/room-state.js";
import { EdgegapHttpSource } from "../../src/providers/edgegap/http-source.js";
import { edgegapWebhookReceiver, edgegapWebhooks, edgegapWebhookUrl } from "../../src/providers/edgegap/webhooks.js";
import type { PollingSource } from "../../src/core/source.js";
import { EdgegapScenario, EdgegapSimulator, type EdgegapDeploymentTruth } from "../../src/simulator/index.js";
import type { FaultOptions } from "../../src/simulator/faults.js";
import type { WebhookFaults } from "../../src/simulator/edgegap/webhook-caller.js";
import type { Fleet } from "../../src/watch/fleet.js";
import { seededRandom } from "../helpers/prng.js";
import { type ActiveSeen, countingSource, grew, type Later, type ProviderRoom, type ProviderRooms, type RequestLog, untilMet } from "./provider-rooms.js";

/** What the soak does to a deployment, drawn per room (each once first, then at random). */
export const EdgegapPlan = {
  /** READY, and left so: the watcher must end active at its fqdn and game port. */
  READY: "ready",
  /** Fails to start: ERROR, with Edgegap's error_detail. */
  ERROR: "error",
  /**
   * Stopped as soon as it is created, so always mid-start, however late the watcher's first look: Edgegap
   * holds the stop until READY, then TERMINATING at the same instant (no look sees it READY). A stop held
   * looks the same to the watcher whenever in the start it was asked, so stopping at once loses nothing.
   */
  STOP_MID_START: "stop-mid-start",
  /** Stopped as soon as the watcher reports it active. */
  STOP_AFTER_ACTIVE: "stop-after-active",
} as const;
export type EdgegapPlan = (typeof EdgegapPlan)[keyof typeof EdgegapPlan];
const PLANS: readonly EdgegapPlan[] = Object.values(EdgegapPlan);
/** Draw weights, in PLANS order. */
const PLAN_WEIGHTS: readonly number[] = [0.4, 0.2, 0.2, 0.2];

const GAME_PORT = "gameport";
/** A second port, which must come in additionalExposedPorts. */
const ADMIN_PORT = "admin";
/** Simulated ms per real ms: a start of ~8 s takes ~400 ms. */
const TIME_SCALE = 20;
const BASE_FAULTS: FaultOptions = { errorRates: { 500: 0.03, 503: 0.03 }, malformedRate: 0.02, dropRate: 0.02, latencyMs: [0, 20] };
/** One 429 burst (real ms): every status request refused, as Edgegap does past its limit. */
const RATE_LIMIT_BURST_MS = 300;
/** The longest a burst of faults waits for the client to meet it (real ms). */
const BURST_MAX_MS = 3_000;
/** Kinds of chaos step: 5xx, 429s, malformed bodies, forged webhooks. */
const CHAOS_KINDS = 4;
/** The secret in the webhook URLs each deployment is created with. */
const WEBHOOK_SECRET = "soak_webhook_secret_7d1e0c9a";
/** Webhooks lost and late, all the soak long until the calm: a lost one must cost nothing. */
const WEBHOOK_FAULTS: WebhookFaults = { dropRate: 0.25, delayMs: [0, 300] };
/** As the gateway: a webhook brings a deployment's look forward at most once per this interval. */
const HINT_INTERVAL_MS = 1_000;
/** Deployments a forgery step sends a forged `ready` webhook for. */
const FORGED_PER_STEP = 5;

export interface EdgegapRoom extends ProviderRoom {
  readonly plan: EdgegapPlan;
  stopped: boolean;
}

const hostPort = (p: { host: string; port: number } | undefined): string => (p === undefined ? "-" : `${p.host}:${p.port}`);

export class EdgegapRooms implements ProviderRooms<EdgegapRoom> {
  readonly name = "edgegap";
  readonly source: PollingSource;
  readonly sim: EdgegapSimulator;
  readonly errors: string[] = [];
  readonly #random: () => number;
  readonly #roomIds: string[] = [];
  readonly #chaos = { http5xxBursts: 0, rateLimitBursts: 0, malformedBursts: 0, forgeries: 0, stopMidStart: 0, stopAfterActive: 0 };
  /** The webhook receiver's verdicts, by outcome. */
  readonly #hints: HintCounts;
  readonly #receiver: Server;
  readonly #receiverUrl: string;
  #chaosRound = 0;
  #calm = false;

  private constructor(sim: EdgegapSimulator, source: PollingSource, random: () => number, receiver: { server: Server; url: string; hints: HintCounts }) {
    this.sim = sim;
    this.source = source;
    this.#random = random;
    this.#receiver = receiver.server;
    this.#receiverUrl = receiver.url;
    this.#hints = receiver.hints;
  }

  /** `log` gets the start of every status request, as the soak's other fleet requests; `fleet` is where they are watched, and hinted. */
  static async start(seed: number, log: RequestLog, fleet: Fleet): Promise<EdgegapRooms> {
    const token = `soak-edgegap-${seed}`;
    const sim = await EdgegapSimulator.start({
      seed,
      timeScale: TIME_SCALE,
      token,
      ports: [
        { name: GAME_PORT, internal: 7777, protocol: "UDP" },
        { name: ADMIN_PORT, internal: 8080, protocol: "TCP" },
      ],
      faults: BASE_FAULTS,
      webhookFaults: WEBHOOK_FAULTS,
    });
    const http = new EdgegapHttpSource({ token, portName: GAME_PORT, baseUrl: sim.url, requestTimeoutMs: 5_000 });
    const source = countingSource(http, log);
    const hints: HintCounts = { accepted: 0, coalesced: 0, unknownRoom: 0, badSecret: 0, badBody: 0 };
    const receiver = await listen((path, body) => hint(fleet, source, hints, path, body));
    return new EdgegapRooms(sim, source, seededRandom(seed ^ 0x27d4eb2f), { ...receiver, hints });
  }

  get pendingTimers(): number {
    return 0;
  }

  create(): EdgegapRoom {
    const n = this.#roomIds.length;
    const plan = n < PLANS.length ? PLANS[n]! : this.#drawPlan();
    const hooks = edgegapWebhooks(this.#receiverUrl, WEBHOOK_SECRET);
    const roomId = this.sim.createDeployment({
      scenario: plan === EdgegapPlan.ERROR ? EdgegapScenario.ERROR : EdgegapScenario.READY,
      webhooks: { ready: hooks.webhook_on_ready.url, error: hooks.webhook_on_error.url, terminated: hooks.webhook_on_terminated.url },
    });
    this.#roomIds.push(roomId);
    const room: EdgegapRoom = { roomId, plan, stopped: false };
    if (plan === EdgegapPlan.STOP_MID_START) this.#stop(room, "stopMidStart");
    return room;
  }

  onStarting(): void {}

  onActive(room: EdgegapRoom): void {
    if (room.plan === EdgegapPlan.STOP_AFTER_ACTIVE) this.#stop(room, "stopAfterActive");
  }

  /**
   * READY: active at its fqdn and game port. ERROR: ended `error` with Edgegap's error_detail. Stopped:
   * `shutdown` once it was TERMINATING, `destroyed` only once TERMINATED.
   */
  agrees(room: EdgegapRoom, state: RoomState): boolean {
    const truth = this.sim.truth(room.roomId);
    if (truth === undefined) return false;
    if (state.status === "active") return truth.status === "READY" && hostPort(state.connection.exposedPort) === gamePort(truth);
    if (state.status !== "terminated") return false;
    switch (state.reason) {
      case "error":
        return truth.status === "ERROR" && state.hostState === "ERROR" && state.detail === truth.errorDetail;
      case "shutdown":
        return truth.history.some((e) => e.status === "TERMINATING") && state.hostState === "TERMINATING";
      case "destroyed":
        return truth.status === "TERMINATED" && state.hostState === "TERMINATED";
      default:
        return false;
    }
  }

  /** Every active event at the deployment's fqdn and game port, once READY, with the admin port beside it. */
  check(room: EdgegapRoom, actives: readonly ActiveSeen[]): string[] {
    const truth = this.sim.truth(room.roomId);
    const wrong: string[] = [];
    if (truth === undefined) return [`edgegap ${room.roomId}: no such deployment`];
    for (const active of actives) {
      if (!truth.history.some((e) => e.status === "READY") || hostPort(active.port) !== gamePort(truth)) {
        wrong.push(`edgegap ${room.roomId}: active at ${hostPort(active.port)}, which it never had while READY (${describe(truth)})`);
      } else if (!active.additional.some((p) => hostPort(p) === `${truth.fqdn}:${truth.externalPorts[ADMIN_PORT]}`)) {
        wrong.push(`edgegap ${room.roomId}: port ${ADMIN_PORT} missing from additionalExposedPorts`);
      }
    }
    return wrong;
  }

  describe(roomId: string): string {
    return describe(this.sim.truth(roomId));
  }

  /**
   * One burst of status faults, lasting until the fleet has met it: 5xx, 429s (no Retry-After), malformed
   * bodies; or forged webhooks: a `ready` for a few deployments whatever their state, one with a wrong secret.
   */
  chaosStep(later: Later, next: () => void): void {
    const kind = this.#chaosRound < CHAOS_KINDS ? this.#chaosRound : Math.floor(this.#random() * CHAOS_KINDS);
    this.#chaosRound++;
    const faults = (...kinds: string[]) => () => kinds.reduce((n, k) => n + (this.sim.faultCounts()[k] ?? 0), 0);
    const then = (): void => {
      if (!this.#calm) this.sim.setFaults(BASE_FAULTS);
      later(150 + this.#random() * 300, next);
    };
    switch (kind) {
      case 0:
        this.#chaos.http5xxBursts++;
        this.sim.setFaults({ ...BASE_FAULTS, errorRates: { 500: 0.3, 503: 0.3 } });
        untilMet(later, grew(faults("http500", "http503")), then, BURST_MAX_MS);
        return;
      case 1: {
        // Refuse every status request, again each time the last burst passed unmet, until one was refused.
        this.#chaos.rateLimitBursts++;
        const met = grew(faults("limit429"));
        let blockedUntil = 0;
        const burst = (): boolean => {
          if (met()) return true;
          if (Date.now() >= blockedUntil) {
            this.sim.rateLimitBurst("status", RATE_LIMIT_BURST_MS);
            blockedUntil = Date.now() + RATE_LIMIT_BURST_MS;
          }
          return false;
        };
        untilMet(later, burst, then, BURST_MAX_MS);
        return;
      }
      case 2:
        this.#chaos.malformedBursts++;
        this.sim.setFaults({ ...BASE_FAULTS, malformedRate: 0.5 });
        untilMet(later, grew(faults("malformed")), then, BURST_MAX_MS);
        return;
      default: {
        this.#chaos.forgeries++;
        for (let i = 0; i < FORGED_PER_STEP && this.#roomIds.length > 0; i++) {
          this.sim.forgeWebhook(this.#roomIds[Math.floor(this.#random() * this.#roomIds.length)]!, "ready");
        }
        const victim = this.#roomIds.at(-1);
        if (victim !== undefined) this.sim.forgeWebhook(victim, "ready", edgegapWebhookUrl(this.#receiverUrl, "not_the_secret_0123456789", "ready"));
        then();
        return;
      }
    }
  }

  get everyChaosKindRan(): boolean {
    return this.#chaosRound >= CHAOS_KINDS;
  }

  calm(): void {
    this.#calm = true;
    this.sim.setFaults({});
    this.sim.setWebhookFaults({});
  }

  /**
   * The fake's faults on status (`status.*`; `status.limit429` its rate limit and the bursts), its webhook
   * calls (`webhooks.*`: sent, delivered, failed, dropped, forged), the receiver's verdicts on them
   * (`hints.*`), and the soak's.
   */
  faultCounts(): Record<string, number> {
    const status = Object.fromEntries(Object.entries(this.sim.faultCounts()).map(([kind, n]) => [`status.${kind}`, n]));
    const { sentAt: _sentAt, ...calls } = this.sim.webhookCounts();
    const webhooks = Object.fromEntries(Object.entries(calls).map(([kind, n]) => [`webhooks.${kind}`, n]));
    const hints = Object.fromEntries(Object.entries(this.#hints).map(([kind, n]) => [`hints.${kind}`, n]));
    return { ...status, ...webhooks, ...hints, ...this.#chaos };
  }

  truthCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const id of this.#roomIds) {
      for (const status of new Set(this.sim.truth(id)?.history.map((e) => e.status))) counts[status] = (counts[status] ?? 0) + 1;
    }
    return counts;
  }

  /** The fake first (it waits for its webhooks in flight, which the receiver answers), then the receiver. */
  async close(): Promise<void> {
    await this.sim.close();
    await new Promise<void>((resolve) => {
      this.#receiver.closeAllConnections();
      this.#receiver.close(() => resolve());
    });
  }

  /** Counts the stop as `kind` only if the fake took it so: held for a stop mid-start, at once after active. */
  #stop(room: EdgegapRoom, kind: "stopMidStart" | "stopAfterActive"): void {
    if (room.stopped) return;
    room.stopped = true;
    const outcome = this.sim.stopDeployment(room.roomId);
    if (outcome === (kind === "stopMidStart" ? "pending" : "stopping")) this.#chaos[kind]++;
    else this.errors.push(`${kind} of ${room.roomId} answered ${outcome}`);
  }

  #drawPlan(): EdgegapPlan {
    let u = this.#random();
    for (let i = 0; i < PLANS.length; i++) {
      u -= PLAN_WEIGHTS[i]!;
      if (u < 0) return PLANS[i]!;
    }
    return EdgegapPlan.READY;
  }
}

type HintCounts = Record<"accepted" | "coalesced" | "unknownRoom" | "badSecret" | "badBody", number>;

/**
 * A webhook call, as the gateway takes one: its secret and body read by the provider's receiver, then a
 * hint for its deployment in `fleet` (one verifying look, at most one per hint interval). The HTTP status to answer.
 */
function hint(fleet: Fleet, source: PollingSource, counts: HintCounts, path: string, body: string): number {
  let requestId: string;
  try {
    requestId = edgegapWebhookReceiver(WEBHOOK_SECRET).read(path, body);
  } catch (error) {
    const bad = error instanceof WebhookError && error.reason !== "bad_body" ? "badSecret" : "badBody";
    counts[bad]++;
    return bad === "badSecret" ? 404 : 400;
  }
  const outcome = fleet.bringForward(requestId, source, HINT_INTERVAL_MS);
  counts[outcome === undefined ? "unknownRoom" : outcome ? "accepted" : "coalesced"]++;
  return outcome === undefined ? 404 : 204;
}

/** A webhook receiver on loopback, port 0: each POST's path and body to `answer`, which gives the status. */
async function listen(answer: (path: string, body: string) => number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => res.writeHead(req.method === "POST" ? answer(req.url ?? "/", body) : 405).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const gamePort = (truth: EdgegapDeploymentTruth): string => `${truth.fqdn}:${truth.externalPorts[GAME_PORT]}`;

function describe(truth: EdgegapDeploymentTruth | undefined): string {
  if (truth === undefined) return "no such deployment";
  return `truth ${truth.scenario}: ${truth.history.map((e) => `${e.status}@${e.at}`).join(" > ")}${truth.status === "READY" ? ` at ${gamePort(truth)}` : ""}`;
}
