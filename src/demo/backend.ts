/**
 * What the demo needs of a provider: a fake host running in-process, rooms of a few kinds created on
 * it, the options that watch them, and the host's ground truth to compare the watchers' reports with.
 * The driver (./demo.ts) is the same for every provider.
 */
import type { Connection } from "../core/observation.js";
import type { RoomStatus } from "../core/room-state.js";
import type { HintCounts } from "../simulator/hints.js";
import type { RoomWatcherOptions } from "../watch/room-watcher.js";

/** A room the demo watches, as a backend sees it. */
export interface DemoRoom {
  readonly roomId: string;
  readonly kind: string;
  /** Real ms (performance.now()) it was created at. */
  readonly createdAt: number;
  /** Whether its watcher has reported a move. */
  readonly moved: boolean;
}

/** What the fake host says happened to a room. */
export interface DemoTruth {
  /** `active`, `starting`, or the termination reason a watcher should report (`destroyed`, `shutdown`, ...). */
  readonly status: string;
  readonly connection: Connection | undefined;
  /** Whether the room must be seen to move (it was rescheduled). */
  readonly moved: boolean;
  /** Real ms (performance.now()) the host made it active, if it did. */
  readonly activeAt: number | undefined;
  /** The host's word on why it ended (Edgegap's error_detail), when the watcher must report it too. Default none. */
  readonly detail?: string | undefined;
}

export interface DemoBackend {
  /** The fake host, for the summary's first line: "simulator seed 7", say. */
  readonly description: string;
  /** The kinds to create at start, in order (more may follow from `onActive`). */
  readonly initialKinds: readonly string[];
  /** The fleet's request budget: the provider's default (`Fleet`'s when absent). */
  readonly maxRequestsPerSecond?: number | undefined;
  /** Rooms that will be created later, by `onActive`: the demo is over only once they are. */
  readonly laterRooms: () => number;
  /** Creates a room of `kind` on the fake host. */
  create(kind: string): string;
  /** How the room is watched: its source and poll options (the demo adds roomId, fleet and a deadline). */
  watchOptions(roomId: string): Omit<RoomWatcherOptions, "roomId" | "fleet">;
  /** Its watcher saw it starting. */
  onStarting?(room: DemoRoom): void;
  /** Its watcher saw it active. Returns the kinds of rooms to create now. */
  onActive?(room: DemoRoom): readonly string[];
  /** Whether the room has reached the state its kind is meant to end in. */
  settled(room: DemoRoom, status: RoomStatus): boolean;
  /** What the host says happened to it. */
  truth(roomId: string): DemoTruth;
  /** Requests its watchers sent the host for it. */
  requests(roomId: string): number;
  /** For the `waiting` progress: what a pending room waits for beyond its status ("ends at its deadline in ~3 s"). */
  waitingNote?(room: DemoRoom, now: number): string;
  /**
   * With a gateway: its dashboard's page, the demo's own throwaway metrics token in the fragment (which
   * browsers never send), e.g. "http://127.0.0.1:41234/dashboard#token=...".
   */
  readonly dashboardUrl?: string | undefined;
  /** The gateway's figures, when the demo ran through one: final once the backend is closed. */
  gatewayFigures?(): { readonly hints: HintCounts; readonly upstreamRequests: number } | undefined;
  close(): Promise<void>;
}
