/**
 * A GameServer as an observation. Pure: the source calls it on every cached object it reports.
 *
 * | Agones                                                     | observation                        |
 * |------------------------------------------------------------|------------------------------------|
 * | (no state yet), PortAllocation, Creating, Starting, Scheduled, RequestReady | starting          |
 * | Ready, Reserved, Allocated, meeting `activeWhen`           | active (address and port)          |
 * | Ready, Reserved, Allocated, not meeting it                 | starting                           |
 * | Shutdown / Error / Unhealthy                               | ended shutdown / error / unhealthy |
 * | deletion requested (`deletionTimestamp`), a DELETED event  | ended deleted                      |
 * | anything else                                              | unrecognized, with a warning       |
 *
 * `hostState` keeps the Agones state in every ending.
 */
import { ConfigError } from "../../core/errors.js";
import { EndReason, type Observation, type PollResult } from "../../core/observation.js";
import { connectionOf, type PortChoice } from "./ports.js";
import { type GameServer, GameServerState } from "./schemas.js";

/** The prefix the Agones SDK puts before every label and annotation key it sets [S8]. */
export const SDK_METADATA_PREFIX = "agones.dev/sdk-";

/**
 * When a GameServer counts as active (joinable):
 * - `"Ready"` (the default): in state Ready, Reserved or Allocated (Agones's `IsActive()`);
 * - `"Allocated"`: only once allocated, for a matchmaker that waits for the server it allocated;
 * - `{ label, value }` / `{ annotation, value }`: in one of those states and carrying the label (or
 *   annotation) the game set through the SDK (`SetLabel("accepting", "true")` becomes
 *   `agones.dev/sdk-accepting: "true"`), for "the match is loaded". The key is given with or without the prefix.
 */
export type ActiveWhen =
  | "Ready"
  | "Allocated"
  | { readonly label: string; readonly value: string }
  | { readonly annotation: string; readonly value: string };

export interface MappingOptions extends PortChoice {
  readonly activeWhen: ResolvedActiveWhen;
}

export type ResolvedActiveWhen =
  | { readonly kind: "ready" }
  | { readonly kind: "allocated" }
  | { readonly kind: "label" | "annotation"; readonly key: string; readonly value: string };

const STARTING_STATES: readonly string[] = [
  GameServerState.PORT_ALLOCATION,
  GameServerState.CREATING,
  GameServerState.STARTING,
  GameServerState.SCHEDULED,
  GameServerState.REQUEST_READY,
];
const ACTIVE_STATES: readonly string[] = [GameServerState.READY, GameServerState.RESERVED, GameServerState.ALLOCATED];
const ENDED_STATES: Readonly<Record<string, EndReason>> = {
  [GameServerState.SHUTDOWN]: EndReason.SHUTDOWN,
  [GameServerState.ERROR]: EndReason.ERROR,
  [GameServerState.UNHEALTHY]: EndReason.UNHEALTHY,
};

/** A label key the SDK can set: an optional DNS-subdomain prefix and a name of 1..63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** `activeWhen` checked and with its key prefixed; ConfigError naming what is wrong. */
export function resolveActiveWhen(activeWhen: ActiveWhen | undefined): ResolvedActiveWhen {
  if (activeWhen === undefined || activeWhen === "Ready") return { kind: "ready" };
  if (activeWhen === "Allocated") return { kind: "allocated" };
  if (typeof activeWhen === "object" && activeWhen !== null) {
    const kind = "label" in activeWhen ? "label" : "annotation" in activeWhen ? "annotation" : undefined;
    const raw: unknown = kind === "label" ? (activeWhen as { label: unknown }).label : kind === "annotation" ? (activeWhen as { annotation: unknown }).annotation : undefined;
    if (kind !== undefined && typeof raw === "string" && typeof activeWhen.value === "string") {
      const key = raw.startsWith(SDK_METADATA_PREFIX) ? raw : `${SDK_METADATA_PREFIX}${raw}`;
      if (!LABEL_KEY.test(key)) throw new ConfigError(`activeWhen.${kind} ${JSON.stringify(raw).slice(0, 100)} is not a valid key (the SDK key, without or with "${SDK_METADATA_PREFIX}")`);
      return { kind, key, value: activeWhen.value };
    }
  }
  throw new ConfigError(`activeWhen must be "Ready", "Allocated", { label, value } or { annotation, value }, got ${(JSON.stringify(activeWhen) ?? typeof activeWhen).slice(0, 100)}`);
}

/**
 * What a GameServer says about its room. Throws ConfigError when `options` ask for a port or address type
 * the server does not have, InvalidPayloadError when an active server has no address or ports.
 */
export function observeGameServer(gameServer: GameServer, options: MappingOptions): PollResult {
  const state = gameServer.status?.state ?? "";
  const reason = ENDED_STATES[state];
  if (reason !== undefined) return result({ kind: "ended", reason, hostState: state });
  if (isSet(gameServer.metadata.deletionTimestamp)) {
    // A deletion cannot be undone: the DELETED event follows once the finalizer is done.
    return result({ kind: "ended", reason: EndReason.DELETED, hostState: state === "" ? undefined : state });
  }
  if (state === "" || STARTING_STATES.includes(state)) return result({ kind: "starting" });
  if (ACTIVE_STATES.includes(state)) {
    if (!meets(gameServer, state, options.activeWhen)) return result({ kind: "starting" });
    const { connection, warnings } = connectionOf(gameServer, options);
    return { observation: { kind: "active", connection }, warnings };
  }
  return {
    observation: { kind: "unrecognized", status: state },
    warnings: [{ code: "UNKNOWN_STATUS", value: state, message: `GameServer ${gameServer.metadata.name} has an undocumented state "${state}"` }],
  };
}

/** A GameServer that a DELETED event (or a relist) says is gone: ended `deleted`, its last state kept. */
export function deletedObservation(lastState: string | undefined): PollResult {
  return result({ kind: "ended", reason: EndReason.DELETED, hostState: lastState === "" ? undefined : lastState });
}

function meets(gameServer: GameServer, state: string, activeWhen: ResolvedActiveWhen): boolean {
  switch (activeWhen.kind) {
    case "ready":
      return true;
    case "allocated":
      return state === GameServerState.ALLOCATED;
    case "label":
      return gameServer.metadata.labels?.[activeWhen.key] === activeWhen.value;
    case "annotation":
      return gameServer.metadata.annotations?.[activeWhen.key] === activeWhen.value;
  }
}

function isSet(value: string | null | undefined): boolean {
  return value !== undefined && value !== null && value !== "";
}

function result(observation: Observation): PollResult {
  return { observation, warnings: [] };
}
