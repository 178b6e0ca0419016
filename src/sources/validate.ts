/** Validation of the values that end up in a URL: nothing may reach another endpoint or host. */
import { ConfigError } from "../errors.js";
import { ROOM_ID_PATTERN } from "../wire/schemas.js";

export function validateRoomId(roomId: unknown): string {
  if (typeof roomId !== "string" || !ROOM_ID_PATTERN.test(roomId)) {
    throw new ConfigError(`invalid room id ${JSON.stringify(String(roomId)).slice(0, 120)}: expected 1..100 characters of [a-zA-Z0-9_-]`);
  }
  return roomId;
}

export function validateAppId(appId: unknown): string {
  if (typeof appId !== "string" || !ROOM_ID_PATTERN.test(appId)) {
    throw new ConfigError(`invalid app id ${JSON.stringify(String(appId)).slice(0, 120)}: expected 1..100 characters of [a-zA-Z0-9_-]`);
  }
  return appId;
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
