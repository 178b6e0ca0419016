/**
 * The Edgegap third of the chaos soak: deployments on a fake Edgegap (EdgegapSimulator) with seeded
 * lifecycles, each polled through one EdgegapHttpSource in the soak's budgeted fleet, and the faults of
 * Edgegap's status endpoint: 5xx, malformed bodies, and 429s, both its own 20 requests/s and bursts
 * (rateLimitBurst, with no Retry-After, as Edgegap documents none), on each of which the whole fleet must
 * pause. Each deployment's final report is checked against the fake's truth.
 */
import type { RoomState } from "../../src/core/room-state.js";
import { EdgegapHttpSource } from "../../src/providers/edgegap/http-source.js";
import type { PollingSource } from "../../src/core/source.js";
import { EdgegapScenario, EdgegapSimulator, type EdgegapDeploymentTruth } from "../../src/simulator/index.js";
import type { FaultOptions } from "../../src/simulator/faults.js";
import { seededRandom } from "../helpers/prng.js";
import { type ActiveSeen, countingSource, grew, type Later, type ProviderRoom, type ProviderRooms, untilMet } from "./provider-rooms.js";

/** What the soak does to a deployment, drawn per room (each once first, then at random). */
export const EdgegapPlan = {
  /** READY, and left so: the watcher must end active at its fqdn and game port. */
  READY: "ready",
  /** Fails to start: ERROR, with Edgegap's error_detail. */
  ERROR: "error",
  /** Stopped as soon as the watcher reports it starting: Edgegap holds the stop until READY, then TERMINATING. */
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

export interface EdgegapRoom extends ProviderRoom {
  readonly plan: EdgegapPlan;
  stopped: boolean;
}

const hostPort = (p: { host: string; port: number } | undefined): string => (p === undefined ? "-" : `${p.host}:${p.port}`);

export class EdgegapRooms implements ProviderRooms<EdgegapRoom> {
  readonly name = "edgegap";
  readonly source: PollingSource;
  readonly sim: EdgegapSimulator;
  readonly errors: readonly string[] = [];
  readonly #random: () => number;
  readonly #roomIds: string[] = [];
  readonly #chaos = { http5xxBursts: 0, rateLimitBursts: 0, malformedBursts: 0, stopMidStart: 0, stopAfterActive: 0 };
  #chaosRound = 0;
  #calm = false;

  private constructor(sim: EdgegapSimulator, source: PollingSource, random: () => number) {
    this.sim = sim;
    this.source = source;
    this.#random = random;
  }

  /** `requestTimes` gets the start of every status request, as the soak's other fleet requests. */
  static async start(seed: number, requestTimes: number[]): Promise<EdgegapRooms> {
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
    });
    const http = new EdgegapHttpSource({ token, portName: GAME_PORT, baseUrl: sim.url, requestTimeoutMs: 5_000 });
    return new EdgegapRooms(sim, countingSource(http, requestTimes), seededRandom(seed ^ 0x27d4eb2f));
  }

  get pendingTimers(): number {
    return 0;
  }

  create(): EdgegapRoom {
    const n = this.#roomIds.length;
    const plan = n < PLANS.length ? PLANS[n]! : this.#drawPlan();
    const roomId = this.sim.createDeployment({ scenario: plan === EdgegapPlan.ERROR ? EdgegapScenario.ERROR : EdgegapScenario.READY });
    this.#roomIds.push(roomId);
    return { roomId, plan, stopped: false };
  }

  onStarting(room: EdgegapRoom): void {
    if (room.plan === EdgegapPlan.STOP_MID_START) this.#stop(room, "stopMidStart");
  }

  onActive(room: EdgegapRoom): void {
    // A room first seen active (its start fell between looks) is stopped now: its plan still ends in a stop.
    if (room.plan === EdgegapPlan.STOP_AFTER_ACTIVE || room.plan === EdgegapPlan.STOP_MID_START) this.#stop(room, "stopAfterActive");
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

  /** One burst of status faults, lasting until the fleet has met it: 5xx, 429s (no Retry-After), malformed bodies. */
  chaosStep(later: Later, next: () => void): void {
    const kind = this.#chaosRound < 3 ? this.#chaosRound : Math.floor(this.#random() * 3);
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
      default:
        this.#chaos.malformedBursts++;
        this.sim.setFaults({ ...BASE_FAULTS, malformedRate: 0.5 });
        untilMet(later, grew(faults("malformed")), then, BURST_MAX_MS);
        return;
    }
  }

  calm(): void {
    this.#calm = true;
    this.sim.setFaults({});
  }

  /** The fake's faults on status (`status.*`; `status.limit429` its rate limit and the bursts) and the soak's. */
  faultCounts(): Record<string, number> {
    const status = Object.fromEntries(Object.entries(this.sim.faultCounts()).map(([kind, n]) => [`status.${kind}`, n]));
    return { ...status, ...this.#chaos };
  }

  truthCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const id of this.#roomIds) {
      for (const status of new Set(this.sim.truth(id)?.history.map((e) => e.status))) counts[status] = (counts[status] ?? 0) + 1;
    }
    return counts;
  }

  async close(): Promise<void> {
    await this.sim.close();
  }

  #stop(room: EdgegapRoom, kind: "stopMidStart" | "stopAfterActive"): void {
    if (room.stopped) return;
    room.stopped = true;
    this.sim.stopDeployment(room.roomId);
    this.#chaos[kind]++;
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

const gamePort = (truth: EdgegapDeploymentTruth): string => `${truth.fqdn}:${truth.externalPorts[GAME_PORT]}`;

function describe(truth: EdgegapDeploymentTruth | undefined): string {
  if (truth === undefined) return "no such deployment";
  return `truth ${truth.scenario}: ${truth.history.map((e) => `${e.status}@${e.at}`).join(" > ")}${truth.status === "READY" ? ` at ${gamePort(truth)}` : ""}`;
}
