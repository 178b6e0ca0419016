/**
/**
 * Request plumbing every simulated API shares (the Hathora rooms API, the Kubernetes API, Edgegap):
 * bounded body reading, JSON replies, path splitting, constant-time bearer token checks and timers
 * that close() can cancel.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Larger request bodies are answered 413. */
export const MAX_BODY_BYTES = 64 * 1024;
/** An oversized body is drained (so the client can read the 413) up to this size, then the socket closes. */
export const MAX_DRAIN_BYTES = 1024 * 1024;
/** setTimeout's upper bound. */
export const MAX_TIMER_MS = 2_147_483_647;

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** SHA-256 of a token: equal-length buffers for timingSafeEqual, whatever was presented. */
export function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export type BodyResult = { readonly kind: "ok"; readonly text: string } | { readonly kind: "tooLarge" } | { readonly kind: "aborted" };

export function readBody(req: IncomingMessage): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) return Promise.resolve({ kind: "tooLarge" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > MAX_DRAIN_BYTES) resolve({ kind: "tooLarge" });
    });
    req.on("end", () => {
      resolve(size > MAX_BODY_BYTES ? { kind: "tooLarge" } : { kind: "ok", text: Buffer.concat(chunks).toString("utf8") });
    });
    req.on("error", () => resolve({ kind: "aborted" }));
    req.on("close", () => {
      if (!req.complete) resolve({ kind: "aborted" });
    });
  });
}

export function send(res: ServerResponse, reply: Reply, rawBody?: string): void {
  if (res.headersSent || res.destroyed) return;
  const text = rawBody ?? (reply.body === undefined ? undefined : JSON.stringify(reply.body));
  const headers: Record<string, string> = { ...reply.headers };
  if (text !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(text));
  }
  res.writeHead(reply.status, headers);
  res.end(text);
}

/** Splits and percent-decodes a path; undefined when a segment is not valid percent-encoding. */
export function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").slice(1).map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

/** The bearer token of a request, or undefined when there is none. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer +(\S.*)$/i.exec(req.headers.authorization ?? "");
  const presented = match?.[1]?.trim();
  return presented === undefined || presented.length === 0 ? undefined : presented;
}

/** Compares tokens in constant time (over their digests, so lengths leak nothing either). */
export function tokenEquals(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Real-time waits that all resolve false, at once, when the server closes. */
export class CancellableWaits {
  readonly #pending = new Set<{ timer: NodeJS.Timeout; resolve: (completed: boolean) => void }>();

  /** Resolves true after `delayMs`, or false if cancelled first. */
  wait(delayMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#pending.delete(entry);
          resolve(true);
        }, Math.min(delayMs, MAX_TIMER_MS)),
        resolve,
      };
      this.#pending.add(entry);
    });
  }

  cancelAll(): void {
    for (const entry of this.#pending) {
      clearTimeout(entry.timer);
      entry.resolve(false);
    }
    this.#pending.clear();
  }
}
