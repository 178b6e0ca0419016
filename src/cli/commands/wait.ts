/** `room-watcher wait`: block until the room is active, print where to connect. */
import { waitForActive } from "../../watch/wait-for-active.js";
import { ExitCode } from "../exit-codes.js";
import { hostPort } from "../format.js";
import { type CliIo, line } from "../io.js";
import { roomWatcherOptions, type WatchCliOptions } from "../watch-options.js";

export async function runWait(roomId: string, options: WatchCliOptions, io: CliIo): Promise<number> {
  const connection = await waitForActive(roomWatcherOptions(roomId, options, io));
  if (options.json) {
    line(io.stdout, JSON.stringify({ ok: true, roomId, exposedPort: connection.exposedPort, additionalExposedPorts: connection.additionalExposedPorts }));
  } else {
    line(io.stdout, hostPort(connection.exposedPort));
  }
  return ExitCode.OK;
}
