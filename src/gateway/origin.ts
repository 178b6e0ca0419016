/**
 * Which web pages may open a connection to the gateway. Browsers send the page's origin with every
 * WebSocket handshake and let any page connect anywhere, so a gateway reachable from browsers lists the
 * origins of its own pages; a handshake from any other page is refused with 403 before it becomes a
 * connection. Programs other than browsers send no Origin header (and could send any): they are let
 * through, and the client token is what keeps them out.
 */
import { ConfigError } from "../core/errors.js";

export class OriginPolicy {
  readonly #allowed: ReadonlySet<string>;

  /** `allowed`: origins such as "https://play.example.com" (scheme, host and port; nothing else). */
  constructor(allowed: readonly string[]) {
    this.#allowed = new Set(
      allowed.map((entry) => {
        const origin = parseOrigin(entry);
        if (origin === undefined) throw new ConfigError(`allowed origin ${JSON.stringify(entry)} must be an http(s) origin such as https://play.example.com: scheme, host and port only`);
        return origin;
      }),
    );
  }

  /** Whether a handshake with this `Origin` header may go on. */
  allows(header: string | undefined): boolean {
    if (header === undefined) return true;
    const origin = parseOrigin(header);
    return origin !== undefined && this.#allowed.has(origin);
  }
}

/**
 * The serialised origin of `text` if it is exactly an http(s) origin (case and a default port aside), else
 * undefined: "null" (sandboxed frames, file: pages), a path, a query, credentials or garbage never pass for one.
 */
function parseOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.pathname !== "/" || text.endsWith("/") || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") return undefined;
  return url.origin;
}
