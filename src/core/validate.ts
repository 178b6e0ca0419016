/** Validation of the values that end up in a URL or a header: nothing may reach another endpoint or host, or fail on every request. */
import { ConfigError } from "./errors.js";

/**
 * A room id, whichever provider it comes from: Hathora's room ids, Kubernetes object names (up to
 * 253 characters, with dots), Edgegap request ids. No slash, and never `.` or `..`, since it cannot
 * start with a dot: safe in a URL path segment as it is. A provider checks its own, narrower rule.
 */
export const ROOM_ID_PATTERN = /^[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,252}$/;
/** ROOM_ID_PATTERN in words, for messages. */
export const ROOM_ID_RULE = "1..253 characters of [a-zA-Z0-9_.-], not starting with a dot";

/** `value` when it is a string matching `pattern`; else a ConfigError naming `what` and the `rule` in words. */
export function validateId(what: string, value: unknown, pattern: RegExp, rule: string): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new ConfigError(`invalid ${what} ${JSON.stringify(String(value)).slice(0, 120)}: expected ${rule}`);
  }
  return value;
}

export function validateRoomId(roomId: unknown): string {
  return validateId("room id", roomId, ROOM_ID_PATTERN, ROOM_ID_RULE);
}

/** An http(s) URL without credentials, query or fragment; returned without a trailing slash. */
export function validateBaseUrl(baseUrl: unknown): string {
  let url: URL;
  try {
    url = new URL(String(baseUrl));
  } catch {
    throw new ConfigError(`invalid base URL ${JSON.stringify(withoutCredentials(String(baseUrl))).slice(0, 200)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`base URL must be http or https, not ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError("base URL must not carry credentials; pass the token option instead");
  }
  if (url.search !== "" || url.hash !== "") {
    throw new ConfigError("base URL must not have a query or fragment");
  }
  return url.href.replace(/\/+$/, "");
}

/** A URL fit to repeat in a message: whatever comes before an "@" in its authority (user, password, token) masked. */
function withoutCredentials(url: string): string {
  return url.replace(/^((?:[a-z][a-z0-9+.-]*:)?\/*)[^/?#]*@/i, "$1[redacted]@");
}

/** A non-negative finite number of milliseconds. */
export function validateDurationMs(name: string, value: unknown, { allowZero = true } = {}): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigError(`${name} must be a ${allowZero ? "non-negative" : "positive"} finite number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/**
 * A token that an `Authorization: Bearer <token>` header can carry unchanged, or a ConfigError naming
 * `name` and the reason (never the token). Printable ASCII, spaces and tabs allowed inside:
 * - control characters (CR, LF, NUL, DEL, ...): fetch and ws (Node's validateHeaderValue) refuse them
 *   on every request, so a token with one could never be sent;
 * - anything above "~": fetch refuses characters above U+00FF, and the Latin-1 bytes both send for the
 *   rest are read as other characters by any receiver that decodes UTF-8;
 * - whitespace at either end: HTTP drops it from a header value, and the spaces after "Bearer" cannot
 *   be told from a token's own, so the receiver would compare a different token.
 */
export function validateToken(name: string, value: unknown): string {
  if (typeof value !== "string") throw new ConfigError(`${name} must be a string, got ${typeof value}`);
  if (value === "") throw new ConfigError(`${name} must not be empty`);
  const problem = tokenProblem(value);
  if (problem !== undefined) throw new ConfigError(`${name} ${problem}`);
  return value;
}

const CONTROL_NAMES: Readonly<Record<number, string>> = { 0x00: "a NUL", 0x0a: "a line feed", 0x0d: "a carriage return", 0x7f: "a DEL" };

function tokenProblem(token: string): string | undefined {
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
      const what = CONTROL_NAMES[code] ?? "a control character";
      const hint = code === 0x0a || code === 0x0d ? " (a token read from a file or a command often ends with one)" : "";
      return `contains ${what} (U+${code.toString(16).toUpperCase().padStart(4, "0")}), which no HTTP header can carry${hint}`;
    }
    if (code > 0x7e) {
      return "contains a character outside printable ASCII, which an HTTP header cannot carry reliably (fetch refuses any above U+00FF; the others arrive as Latin-1 bytes a receiver may read differently)";
    }
  }
  if (/^[ \t]|[ \t]$/.test(token)) {
    return "begins or ends with whitespace, which HTTP drops from a header value: the receiver would compare a different token";
  }
  return undefined;
}
