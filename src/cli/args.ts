/**
 * Parsers of flag values, shared by every command. Each throws commander's InvalidArgumentError,
 * which commander prints after the flag's name ("option '--port <n>' argument '99999' is invalid.
 * expected ..."), and the CLI exits 2: a value that can never work is refused before anything runs.
 */
import { InvalidArgumentError } from "commander";

/** The highest TCP port. */
export const MAX_PORT = 65_535;

function numberIn(value: string, accept: (n: number) => boolean, expected: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || !accept(n)) throw new InvalidArgumentError(`expected ${expected}`);
  return n;
}

/** A port to listen on: 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  return numberIn(value, (n) => Number.isInteger(n) && n >= 0 && n <= MAX_PORT, `a port number from 0 to ${MAX_PORT} (0: any free port)`);
}

/** A count or seed: 0, 1, 2, ... */
export function parseNonNegativeInt(value: string): number {
  return numberIn(value, (n) => Number.isSafeInteger(n) && n >= 0, "a non-negative integer");
}

/** A limit that 0 would make useless: 1, 2, 3, ... */
export function parsePositiveInt(value: string): number {
  return numberIn(value, (n) => Number.isSafeInteger(n) && n > 0, "a positive integer");
}

/** A duration where 0 means none or immediately. */
export function parseMs(value: string): number {
  return numberIn(value, (n) => n >= 0, "a non-negative number of milliseconds");
}

/** A duration that 0 would turn into a busy loop: a delay between looks, say. */
export function parsePositiveMs(value: string): number {
  return numberIn(value, (n) => n > 0, "a positive number of milliseconds");
}

/** A positive factor (a time scale). */
export function parsePositiveNumber(value: string): number {
  return numberIn(value, (n) => n > 0, "a positive number");
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration with its unit, in ms: "500ms", "60s", "10m", "1h". A bare number is refused: where a flag
 * takes seconds as often as milliseconds ("--ttl 60"), guessing either is a ticket dead at birth or one
 * that lives a thousand times too long.
 */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? ""] ?? Number.NaN);
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError("expected a positive duration with its unit: 500ms, 60s, 10m or 1h");
  return ms;
}
