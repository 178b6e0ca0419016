/**
 * Fault injection: what can go wrong with one answer, decided from a seeded PRNG so a failing run can
 * be replayed. Pure apart from the draws; the server applies the decision.
 */
import { z } from "zod";
import { ConfigError } from "../core/errors.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Reply, send } from "./http-kit.js";
import { createRandom, type Random } from "./random.js";

export interface RateLimitFault {
  /** Chance of answering 429. */
  probability: number;
  /** Retry-After to send, in seconds. Default: no Retry-After header (unless `retryAfterDate`, then 1). */
  retryAfterSeconds?: number | undefined;
  /** Send Retry-After as an HTTP date instead of seconds. Default false. */
  retryAfterDate?: boolean | undefined;
}

/** Faults for one server or one room; a room's fields override the server's, field by field. */
export interface FaultOptions {
  /** Extra delay before answering, real ms: fixed or uniform in [min, max]. Default 0. */
  latencyMs?: number | readonly [number, number] | undefined;
  /** Chance of answering each status instead, e.g. `{500: 0.1, 503: 0.05}` (sum at most 1). Default none. */
  errorRates?: Readonly<Record<number, number>> | undefined;
  /** Chance of answering 429, with an optional Retry-After. Default none. */
  rateLimit?: RateLimitFault | undefined;
  /** Chance that a successful body breaks the documented shape. Default 0. */
  malformedRate?: number | undefined;
  /** Chance of destroying the socket without answering. Default 0. */
  dropRate?: number | undefined;
}

export const MalformedKind = {
  /** Valid JSON cut in half. */
  TRUNCATED: "truncated",
  /** Every top-level field has the wrong type. */
  WRONG_TYPES: "wrongTypes",
  /** A required field is missing. */
  MISSING_FIELDS: "missingFields",
} as const;
export type MalformedKind = (typeof MalformedKind)[keyof typeof MalformedKind];
const MALFORMED_KINDS = Object.values(MalformedKind);

export type FaultOutcome =
  | { readonly kind: "none" }
  | { readonly kind: "drop" }
  | { readonly kind: "rateLimit"; readonly retryAfter: string | undefined }
  | { readonly kind: "error"; readonly status: number }
  | { readonly kind: "malformed"; readonly malformed: MalformedKind };

export interface FaultDecision {
  /** Real ms to wait before applying the outcome. */
  readonly latencyMs: number;
  readonly outcome: FaultOutcome;
}

const probability = z.number().min(0).max(1);
const durationMs = z.number().finite().min(0);
const FaultOptionsSchema = z.object({
  latencyMs: z
    .union([durationMs, z.tuple([durationMs, durationMs]).refine(([min, max]) => min <= max, "min must be <= max")])
    .optional(),
  errorRates: z
    .record(
      z.string().regex(/^[45]\d\d$/, "status must be 400..599"),
      probability,
    )
    .refine((rates) => Object.values(rates).reduce((a, b) => a + b, 0) <= 1, "error rates must sum to at most 1")
    .optional(),
  rateLimit: z
    .object({
      probability,
      retryAfterSeconds: z.number().finite().min(0).optional(),
      retryAfterDate: z.boolean().optional(),
    })
    .optional(),
  malformedRate: probability.optional(),
  dropRate: probability.optional(),
});

/** Throws ConfigError when `faults` is not a valid FaultOptions. */
export function validateFaults(faults: FaultOptions): void {
  const result = FaultOptionsSchema.safeParse(faults);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join(".") || "faults"}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid fault options: ${detail}`, { cause: result.error });
  }
}

/** The faults that apply to a room: its own fields where set, else the server's. */
export function mergeFaults(server: FaultOptions, room: FaultOptions | undefined): FaultOptions {
  if (room === undefined) return server;
  return {
    latencyMs: room.latencyMs ?? server.latencyMs,
    errorRates: room.errorRates ?? server.errorRates,
    rateLimit: room.rateLimit ?? server.rateLimit,
    malformedRate: room.malformedRate ?? server.malformedRate,
    dropRate: room.dropRate ?? server.dropRate,
  };
}

/** An HTTP date (IMF-fixdate), rounded up to a whole second so the wait is never shorter than asked. */
function httpDate(wallNowMs: number, afterSeconds: number): string {
  return new Date(Math.ceil(wallNowMs / 1000) * 1000 + afterSeconds * 1000).toUTCString();
}

/** Decides one answer's fate. `wallNowMs` (Date.now()) is only used for a Retry-After date. */
export function decideFault(faults: FaultOptions, random: Random, wallNowMs: number): FaultDecision {
  const latency = faults.latencyMs;
  const latencyMs =
    latency === undefined ? 0 : typeof latency === "number" ? latency : Math.round(random.uniform(latency[0], latency[1]));

  const outcome = ((): FaultOutcome => {
    if (random.chance(faults.dropRate ?? 0)) return { kind: "drop" };
    const rateLimit = faults.rateLimit;
    if (rateLimit !== undefined && random.chance(rateLimit.probability)) {
      const seconds = rateLimit.retryAfterSeconds;
      if (rateLimit.retryAfterDate === true) return { kind: "rateLimit", retryAfter: httpDate(wallNowMs, seconds ?? 1) };
      return { kind: "rateLimit", retryAfter: seconds === undefined ? undefined : String(Math.ceil(seconds)) };
    }
    const rates = Object.entries(faults.errorRates ?? {})
      .map(([status, p]) => [Number(status), p] as const)
      .filter(([, p]) => p > 0)
      .sort(([a], [b]) => a - b);
    if (rates.length > 0) {
      // One draw against the cumulative rates, so {500: 0.1, 503: 0.05} answers 5xx 15 % of the time.
      const u = random.next();
      let cumulative = 0;
      for (const [status, p] of rates) {
        cumulative += p;
        if (u < cumulative) return { kind: "error", status };
      }
    }
    if (random.chance(faults.malformedRate ?? 0)) return { kind: "malformed", malformed: random.pick(MALFORMED_KINDS) };
    return { kind: "none" };
  })();
  return { latencyMs, outcome };
}

/** The key an applied outcome is counted under in `faultCounts()`. */
export function faultCountKey(outcome: Exclude<FaultOutcome, { kind: "none" }>): string {
  return outcome.kind === "error" ? `http${outcome.status}` : outcome.kind;
}

/** Fields a reader of any answer needs; dropping `roomConfig` would still parse, so it is never chosen. */
const OPTIONAL_FIELDS = new Set(["roomConfig"]);

function wrongType(value: unknown): unknown {
  if (typeof value === "string") return 0;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return "";
  if (value === null || typeof value === "boolean") return 0;
  return [];
}

function withoutField(body: unknown, random: Random, essential: readonly string[] | undefined): unknown {
  if (Array.isArray(body)) {
    if (body.length === 0) return {};
    const first: unknown = body[0];
    if (typeof first !== "object" || first === null) return {};
    const keys = Object.keys(first).filter((k) => !OPTIONAL_FIELDS.has(k));
    if (keys.length === 0) return {};
    const dropped = random.pick(keys);
    return body.map((item: unknown) => withoutField1(item, dropped));
  }
  if (typeof body !== "object" || body === null) return {};
  const keys = Object.keys(body).filter((k) => (essential === undefined ? !OPTIONAL_FIELDS.has(k) : essential.includes(k)));
  return keys.length === 0 ? 0 : withoutField1(body, random.pick(keys));
}

function withoutField1(item: unknown, key: string): unknown {
  if (typeof item !== "object" || item === null) return item;
  return Object.fromEntries(Object.entries(item).filter(([k]) => k !== key));
}

/**
 * A body that breaks the documented shape of `body` in the given way. `essentialFields` names the fields
 * a reader cannot do without, for a missing one to be chosen from (default: any but Hathora's optional ones).
 */
export function malformBody(body: unknown, kind: MalformedKind, random: Random, essentialFields?: readonly string[]): string {
  switch (kind) {
    case MalformedKind.TRUNCATED: {
      const json = JSON.stringify(body);
      return json.slice(0, Math.max(1, Math.min(json.length - 1, Math.floor(json.length / 2))));
    }
    case MalformedKind.WRONG_TYPES: {
      if (Array.isArray(body) || typeof body !== "object" || body === null) return JSON.stringify({ value: body });
      return JSON.stringify(Object.fromEntries(Object.entries(body).map(([k, v]) => [k, wrongType(v)])));
    }
    case MalformedKind.MISSING_FIELDS:
      return JSON.stringify(withoutField(body, random, essentialFields));
    default: {
      const unreachable: never = kind;
      throw new Error(`unknown malformed kind ${String(unreachable)}`);
    }
  }
}

/** Server-wide and per-room fault settings, the seeded stream they draw from, and counts of what was injected. */
export class FaultInjector {
  #server: FaultOptions;
  readonly #rooms = new Map<string, FaultOptions>();
  readonly #random: Random;
  readonly #counts = new Map<string, number>();

  constructor(seed: number, faults: FaultOptions = {}) {
    validateFaults(faults);
    this.#server = { ...faults };
    // Its own stream: injecting faults must not change the room ids or ports the world draws.
    this.#random = createRandom(seed, "faults");
  }

  get random(): Random {
    return this.#random;
  }

  setFaults(faults: FaultOptions): void {
    validateFaults(faults);
    this.#server = { ...faults };
  }

  setRoomFaults(roomId: string, faults: FaultOptions | undefined): void {
    if (faults === undefined) {
      this.#rooms.delete(roomId);
      return;
    }
    validateFaults(faults);
    this.#rooms.set(roomId, { ...faults });
  }

  decide(roomId: string | undefined, wallNowMs: number): FaultDecision {
    const room = roomId === undefined ? undefined : this.#rooms.get(roomId);
    return decideFault(mergeFaults(this.#server, room), this.#random, wallNowMs);
  }

  /** Counts one injected fault under `key` (see faultCountKey). */
  record(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}

/** How a simulated API says an injected failure, in its own wire format. */
export interface FaultAnswers {
  rateLimited(retryAfter: string | undefined): Reply;
  error(status: number): Reply;
}

/**
 * Plays the fault `faults` decides for `key` on one request, as every simulated API does: waits its
 * latency (`wait` resolves false when the server is closing), then drops the socket, or answers a 429 or
 * an error in the API's own words. Undefined when the request is answered (or gone); else it is still to
 * be served, with the malformation to apply if one was drawn.
 */
export async function playFault(
  faults: FaultInjector,
  key: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  wait: (delayMs: number) => Promise<boolean>,
  answers: FaultAnswers,
): Promise<{ readonly malformed: MalformedKind | undefined } | undefined> {
  const decision = faults.decide(key, Date.now());
  if (decision.latencyMs > 0) {
    faults.record("latency");
    if (!(await wait(decision.latencyMs)) || res.destroyed) return undefined;
  }
  const { outcome } = decision;
  switch (outcome.kind) {
    case "none":
      return { malformed: undefined };
    case "malformed":
      return { malformed: outcome.malformed };
    case "drop":
      faults.record(faultCountKey(outcome));
      req.socket.destroy();
      return undefined;
    case "rateLimit":
      faults.record(faultCountKey(outcome));
      send(res, answers.rateLimited(outcome.retryAfter));
      return undefined;
    case "error":
      faults.record(faultCountKey(outcome));
      send(res, answers.error(outcome.status));
      return undefined;
    default: {
      const unreachable: never = outcome;
      throw new Error(`unhandled fault ${JSON.stringify(unreachable)}`);
    }
  }
}
