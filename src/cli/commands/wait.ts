/** `room-watcher wait`: block until the room is active, print where to connect. */
import { waitForActive } from "../../watch/wait-for-active.js";
import { ExitCode } from "../exit-codes.js";
import { hostPort } from "../format.js";
import { type CliIo, line } from "../io.js";
import type { WatchCliOptions } from "../program.js";

export async function runWait(roomId: string, options: WatchCliOptions, io: CliIo): Promise<number> {
  const connection = await waitForActive({
    roomId,
    appId: options.appId,
    baseUrl: options.baseUrl,
    token: options.token,
    apiVersion: options.apiVersion,
    timeoutMs: options.timeout === 0 ? Number.POSITIVE_INFINITY : options.timeout,
    pollIntervalMs: options.pollInterval,
    signal: io.signal,
  });
  if (options.json) {
    line(io.stdout, JSON.stringify({ ok: true, roomId, exposedPort: connection.exposedPort, additionalExposedPorts: connection.additionalExposedPorts }));
  } else {
    line(io.stdout, hostPort(connection.exposedPort));
  }
  return ExitCode.OK;
}
