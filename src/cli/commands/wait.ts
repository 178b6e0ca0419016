/** `room-watcher wait`: block until the room is active, print where to connect. */
import type { Command } from "commander";
import { getDefaultFleet } from "../../watch/fleet.js";
import { resolvePollOptions } from "../../watch/options.js";
import { RoomWatcher, type RoomWatcherOptions } from "../../watch/room-watcher.js";
import { sourceFromOptions } from "../../watch/source-options.js";
import { waitForActive } from "../../watch/wait-for-active.js";
import { ExitCode } from "../exit-codes.js";
import { redactSecrets } from "../../core/redact.js";
import { hostPort } from "../format.js";
import { type CliIo, line } from "../io.js";
import { FailureReport } from "../failure-report.js";
import { StatusLine } from "../status-line.js";
import { stylesFor } from "../style.js";
import { roomWatcherOptions, type WatchCliOptions, watchSecrets } from "../watch-options.js";

/** How often the progress line's clock moves. */
const PROGRESS_TICK_MS = 250;

export async function runWait(roomId: string, options: WatchCliOptions, io: CliIo, command?: Command): Promise<number> {
  const watchOptions = await roomWatcherOptions(roomId, options, io, command);
  // A second watcher of the same room joins the wait's poll (same fleet, same upstream), so it costs
  // no request, and sees every change and failure the wait goes through: people get a live line on
  // stderr, scripts get a line whenever looks start failing, fail differently or recover.
  const follower = io.stderr.isTTY === true ? showProgress(roomId, watchOptions, options, io) : reportFailures(roomId, watchOptions, options, io);
  let connection;
  try {
    connection = await waitForActive(watchOptions);
  } finally {
    await follower.stop();
  }
  if (options.json) {
    line(io.stdout, JSON.stringify({ ok: true, roomId, exposedPort: connection.exposedPort, additionalExposedPorts: connection.additionalExposedPorts }));
  } else {
    line(io.stdout, hostPort(connection.exposedPort));
  }
  return ExitCode.OK;
}

interface Follower {
  stop(): Promise<void>;
}

/** Starts a watcher that follows the wait; stopping it first silences it, so its own end is never shown. */
function follow(watchOptions: RoomWatcherOptions, hear: (watcher: RoomWatcher) => void, onStop: () => void = () => {}): Follower {
  const watcher = new RoomWatcher(watchOptions);
  hear(watcher);
  watcher.start();
  return {
    async stop() {
      watcher.removeAllListeners();
      onStop();
      await watcher.stop();
    },
  };
}

/** Listens to the wait's own feed of the room: every look's answer or failure, at no extra request. */
function reportFailures(roomId: string, watchOptions: RoomWatcherOptions, options: WatchCliOptions, io: CliIo): Follower {
  const styles = stylesFor(io.stderr, io.env);
  const fleet = watchOptions.fleet ?? getDefaultFleet();
  // The source the wait's watcher takes, so this joins the wait's feed instead of starting another.
  const source = sourceFromOptions(watchOptions) ?? fleet.defaultSource;
  if (source === undefined) return { stop: () => Promise.resolve() };
  const report = new FailureReport(roomId, source.target?.(roomId));
  const say = (text: string | undefined): void => {
    if (text !== undefined) line(io.stderr, `${styles.yellow("room-watcher:")} ${redactSecrets(text, watchSecrets(options, io))}`);
  };
  const subscription = fleet.subscribe(source, roomId, resolvePollOptions(watchOptions), {
    onResult: () => say(report.answered()),
    onTransientFailure: (failure) => say(report.failed(failure.error, failure.nextDelayMs)),
    onFatal: () => {},
  });
  return { stop: () => subscription.unsubscribe() };
}

/** A status line fed by the follower: its state, the last failure, and the time waited. */
function showProgress(roomId: string, watchOptions: RoomWatcherOptions, options: WatchCliOptions, io: CliIo): Follower {
  const styles = stylesFor(io.stderr, io.env);
  const status = new StatusLine(io.stderr);
  const startedAt = Date.now();
  let state = "looking";
  let detail = "";
  const render = (): void => {
    const elapsed = `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
    status.show(redactSecrets(`waiting for room ${roomId}: ${state}${detail} · ${elapsed}`, watchSecrets(options, io)), styles.dim);
  };
  const ticker = setInterval(render, PROGRESS_TICK_MS);
  render();
  return follow(
    watchOptions,
    (watcher) => {
      watcher.on("status", (e) => {
        state = e.to;
        detail = "";
        render();
      });
      watcher.on("error", (e) => {
        detail = ` · ${e.error.message}; next look in ${(e.nextDelayMs / 1000).toFixed(1)} s (attempt ${e.attempt})`;
        render();
      });
    },
    () => {
      clearInterval(ticker);
      status.clear();
    },
  );
}
