/** Compares a presented bearer token with the expected one in constant time, never storing it in clear. */
import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/**
 * `<scheme> 1*SP <credentials>` (RFC 9110 section 11.4): the scheme a token of its characters, the
 * credentials everything after the spaces, inner spaces included. Trailing whitespace is not part of
 * a header value (Node's parser drops it too; tokens cannot end with it, see validateToken).
 */
const AUTHORIZATION = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(.*?)[ \t]*$/s;

export class TokenCheck {
  readonly #digest: Buffer;

  /** `token` as validateToken returns it. */
  constructor(token: string) {
    this.#digest = digest(token);
  }

  /** Whether an `Authorization` header value is `Bearer <the token>`, the scheme in any case. */
  matchesHeader(header: string | undefined): boolean {
    const match = AUTHORIZATION.exec(header ?? "");
    if (match === null || match[1]?.toLowerCase() !== "bearer") return false;
    return timingSafeEqual(digest(match[2] ?? ""), this.#digest);
  }
}
