/**
 * From Kubernetes wire values to typed ones: GameServers (one by one, so a malformed one is reported on its
 * own room and does not hide the others), lists and watch events. A watch event of a type nobody documented
 * is kept and reported, not thrown.
 */
import { InvalidPayloadError } from "../../core/errors.js";
import { parseWith } from "../../core/wire-json.js";
import {
  BookmarkObjectSchema,
  type GameServer,
  GameServerListSchema,
  GameServerSchema,
  type Status,
  StatusSchema,
  WatchEventEnvelopeSchema,
} from "./schemas.js";

/** What the cache holds for one name: the object, or why it could not be read. */
export type GameServerEntry =
  | { readonly kind: "object"; readonly name: string; readonly resourceVersion: string | undefined; readonly object: GameServer }
  | { readonly kind: "invalid"; readonly name: string; readonly resourceVersion: string | undefined; readonly error: InvalidPayloadError };

/** One GameServer, or an invalid entry under its name; throws InvalidPayloadError when it has not even a name. */
export function parseGameServer(value: unknown): GameServerEntry {
  const parsed = GameServerSchema.safeParse(value);
  if (parsed.success) {
    const { name, resourceVersion } = parsed.data.metadata;
    return { kind: "object", name, resourceVersion, object: parsed.data };
  }
  const meta = (value as { metadata?: { name?: unknown; resourceVersion?: unknown } } | null)?.metadata;
  const name = typeof meta?.name === "string" && meta.name !== "" ? meta.name : undefined;
  let error: InvalidPayloadError;
  try {
    parseWith(GameServerSchema, value, name === undefined ? "a GameServer" : `GameServer ${name}`);
    error = new InvalidPayloadError("GameServer does not match the documented shape");
  } catch (thrown) {
    error = thrown as InvalidPayloadError;
  }
  if (name === undefined) throw error;
  return { kind: "invalid", name, resourceVersion: typeof meta?.resourceVersion === "string" ? meta.resourceVersion : undefined, error };
}

export interface GameServerListBody {
  readonly resourceVersion: string;
  readonly entries: readonly GameServerEntry[];
  /** Items without even a name: nobody can be told about them, only the reflector's observer. */
  readonly nameless: readonly InvalidPayloadError[];
}

export function parseGameServerList(value: unknown): GameServerListBody {
  const list = parseWith(GameServerListSchema, value, "GameServerList");
  const entries: GameServerEntry[] = [];
  const nameless: InvalidPayloadError[] = [];
  for (const item of list.items ?? []) {
    try {
      entries.push(parseGameServer(item));
    } catch (error) {
      nameless.push(error as InvalidPayloadError);
    }
  }
  return { resourceVersion: list.metadata.resourceVersion, entries, nameless };
}

export type WatchEvent =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED"; readonly entry: GameServerEntry }
  | { readonly type: "BOOKMARK"; readonly resourceVersion: string }
  | { readonly type: "ERROR"; readonly status: Status }
  /** A type nobody documented: reported, and skipped. */
  | { readonly type: "unknown"; readonly value: string };

/** One decoded line of a watch stream. Throws InvalidPayloadError when it breaks the shape. */
export function parseWatchEvent(value: unknown): WatchEvent {
  const envelope = parseWith(WatchEventEnvelopeSchema, value, "watch event");
  switch (envelope.type) {
    case "ADDED":
    case "MODIFIED":
    case "DELETED":
      return { type: envelope.type, entry: parseGameServer(envelope.object) };
    case "BOOKMARK":
      return { type: "BOOKMARK", resourceVersion: parseWith(BookmarkObjectSchema, envelope.object, "BOOKMARK event").metadata.resourceVersion };
    case "ERROR":
      return { type: "ERROR", status: parseWith(StatusSchema, envelope.object, "ERROR event") };
    default:
      return { type: "unknown", value: envelope.type };
  }
}

/** A resourceVersion too old to watch from: 410 with reason `Expired` (or `Gone` from servers up to 1.17). */
export function isExpired(status: Status): boolean {
  return status.code === 410 || status.reason === "Expired" || status.reason === "Gone";
}
