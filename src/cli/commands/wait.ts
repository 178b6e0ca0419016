/** `room-watcher wait`: block until the room is active, print where to connect. */
import { RoomWatcher } from "../../watch/room-watcher.js";
import { waitForActive } from "../../watch/wait-for-active.js";
import { ExitCode } from "../exit-codes.js";
import { hostPort, redact } from "../format.js";
import { type CliIo, line } from "../io.js";
import { StatusLine } from "../status-line.js";
import { stylesFor } from "../style.js";
import { roomWatcherOptions, type WatchCliOptions } from "../watch-options.js";

/** How often the progress line's clock moves. */
const PROGRESS_TICK_MS = 250;

export async function runWait(roomId: string, options: WatchCliOptions, io: CliIo): Promise<number> {
  const watchOptions = roomWatcherOptions(roomId, options, io);
  // People get a live line on stderr; scripts (stderr not a terminal) get nothing extra.
  const progress = io.stderr.isTTY === true ? showProgress(roomId, watchOptions, options, io) : undefined;
  let connection;
  try {
    connection = await waitForActive(watchOptions);
  } finally {
    await progress?.stop();
  }
  if (options.json) {
    line(io.stdout, JSON.stringify({ ok: true, roomId, exposedPort: connection.exposedPort, additionalExposedPorts: connection.additionalExposedPorts }));
  } else {
    line(io.stdout, hostPort(connection.exposedPort));
  }
  return ExitCode.OK;
}

/**
 * A status line fed by a second watcher of the same room: it joins the wait's poll (same fleet, same
 * upstream), so it costs no request, and it sees every change and retry the wait goes through.
 */
function showProgress(roomId: string, watchOptions: ReturnType<typeof roomWatcherOptions>, options: WatchCliOptions, io: CliIo): { stop(): Promise<void> } {
  const styles = stylesFor(io.stderr, io.env);
  const status = new StatusLine(io.stderr);
  const startedAt = Date.now();
  let state = "looking";
  let detail = "";
  const render = (): void => {
    const elapsed = `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
    status.show(redact(`waiting for room ${roomId}: ${state}${detail} · ${elapsed}`, options.token), styles.dim);
  };
  const watcher = new RoomWatcher(watchOptions);
  watcher.on("status", (e) => {
    state = e.to;
    detail = "";
    render();
  });
  watcher.on("error", (e) => {
    detail = ` · ${e.error.message}; next look in ${(e.nextDelayMs / 1000).toFixed(1)} s (attempt ${e.attempt})`;
    render();
  });
  watcher.start();
  render();
  const ticker = setInterval(render, PROGRESS_TICK_MS);
  return {
    async stop() {
      clearInterval(ticker);
      await watcher.stop();
      status.clear();
    },
  };
}
