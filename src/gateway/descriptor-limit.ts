/**
 * The process's file descriptor limit, and how the gateway's socket limits fit under it. Every socket
 * is a descriptor: a gateway whose limits add up to more than the process may open runs out of
 * descriptors (and fails its healthy clients, its upstream requests, /healthz) before any limit of its
 * own acts. Node has no getrlimit; on Linux /proc/self/limits says it.
 */
import { readFileSync } from "node:fs";

/** Descriptors kept for everything but client sockets: upstream requests, Redis, the listener, logs. */
export const DESCRIPTOR_HEADROOM = 256;

/** The soft limit on open files, or undefined when it cannot be read (not Linux, or unlimited). */
export function readDescriptorLimit(read: () => string = () => readFileSync("/proc/self/limits", "utf8")): number | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\S+)/m.exec(text);
  const soft = match?.[1];
  if (soft === undefined || !/^\d+$/.test(soft)) return undefined;
  return Number(soft);
}

export interface SocketBudget {
  readonly maxConnections: number;
  readonly maxPendingSockets: number;
  /** Set when the limits given add up to more than the descriptor limit allows. */
  readonly warning: string | undefined;
}

/**
 * The connection and pending-socket limits: those given, or defaults that fit under the descriptor limit
 * with DESCRIPTOR_HEADROOM to spare (the defaults, 20,000 and 1,000, when the limit is unknown or large).
 */
export function socketBudget(
  descriptorLimit: number | undefined,
  given: { readonly maxConnections: number | undefined; readonly maxPendingSockets: number | undefined },
  defaults: { readonly maxConnections: number; readonly maxPendingSockets: number },
): SocketBudget {
  if (descriptorLimit === undefined) {
    return { maxConnections: given.maxConnections ?? defaults.maxConnections, maxPendingSockets: given.maxPendingSockets ?? defaults.maxPendingSockets, warning: undefined };
  }
  const available = Math.max(2, descriptorLimit - DESCRIPTOR_HEADROOM);
  const maxPendingSockets = given.maxPendingSockets ?? Math.max(1, Math.min(defaults.maxPendingSockets, Math.floor(available / 10)));
  const maxConnections = given.maxConnections ?? Math.max(1, Math.min(defaults.maxConnections, available - maxPendingSockets));
  const needed = maxConnections + maxPendingSockets + DESCRIPTOR_HEADROOM;
  const warning =
    needed > descriptorLimit
      ? `maxConnections (${maxConnections}) + maxPendingSockets (${maxPendingSockets}) + ${DESCRIPTOR_HEADROOM} for everything else is ${needed}, over the process's descriptor limit (${descriptorLimit}): the process would run out of descriptors before these limits act; raise the limit (ulimit -n) or lower them`
      : undefined;
  return { maxConnections, maxPendingSockets, warning };
}
