/**
 * What every simulated API's HTTP face needs (node:http): bounded body reading, JSON replies, path
 * segments and token digests for constant-time comparison.
 */
import { createHash } from "node:crypto";
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

export /** Splits and percent-decodes a path; undefined when a segment is not valid percent-encoding. */
function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").slice(1).map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

