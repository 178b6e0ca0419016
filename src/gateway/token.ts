/** Compares a presented bearer token with the expected one in constant time, never storing it in clear. */
import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export class TokenCheck {
  readonly #digest: Buffer;

  constructor(token: string) {
    this.#digest = digest(token);
  }

  /** Whether an `Authorization` header value is `Bearer <the token>`. */
  matchesHeader(header: string | undefined): boolean {
    const presented = /^Bearer +(\S+)\s*$/i.exec(header ?? "")?.[1];
    return presented !== undefined && timingSafeEqual(digest(presented), this.#digest);
  }
}
