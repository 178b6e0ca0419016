/** `room-watcher watch`: print every event until the room ends or Ctrl-C. */
import type { Command } from "commander";
import { RoomWatcher } from "../../watch/room-watcher.js";
import type { TerminatedEvent } from "../../watch/events.js";
import { exitCodeOf } from "../exit-codes.js";
import { describeEvidence } from "../../core/evidence.js";
import { redactSecrets } from "../../core/redact.js";
import { describeConnection, errorJson, evidenceJson, hostPort } from "../format.js";
import { type CliIo, line } from "../io.js";
import { type Paint, stylesFor } from "../style.js";
import { roomWatcherOptions, type WatchCliOptions, watchSecrets } from "../watch-options.js";

export async function runWatch(roomId: string, options: WatchCliOptions, io: CliIo, command?: Command): Promise<number> {
  const watcher = new RoomWatcher(await roomWatcherOptions(roomId, options, io, command));
  const styles = stylesFor(io.stdout, io.env);
  const paintOf: Record<string, Paint> = { active: styles.green, starting: styles.yellow, terminated: styles.red, error: styles.red, warning: styles.yellow };
  const print = (event: string, payload: Record<string, unknown>, human: string): void => {
    // The source already keeps the token out of its errors; this is the last line of defence.
    if (options.json) {
      line(io.stdout, redactSecrets(JSON.stringify({ event, ...payload }), watchSecrets(options, io)));
      return;
    }
    const paint = paintOf[event] ?? ((text: string) => text);
    line(io.stdout, `${styles.dim(new Date().toISOString())}  ${paint(event.padEnd(10))} ${roomId}  ${redactSecrets(human, watchSecrets(options, io))}`);
  };
  watcher.on("status", (e) => options.json && print("status", { ...e }, ""));
  watcher.on("starting", (e) => print("starting", { ...e }, e.rescheduled ? `rescheduled (was ${describeConnection(e.previous)})` : ""));
  watcher.on("active", (e) => print("active", { ...e }, `${hostPort(e.exposedPort)}${e.moved ? ` (moved from ${describeConnection(e.previous)})` : ""}`));
  watcher.on("error", (e) => print("error", { roomId: e.roomId, attempt: e.attempt, nextDelayMs: e.nextDelayMs, at: e.at, error: errorJson(e.error) }, `${e.error.message}; attempt ${e.attempt}, next look in ${e.nextDelayMs} ms`));
  watcher.on("warning", (e) => print("warning", { ...e }, e.message));
  const ended = new Promise<TerminatedEvent>((resolve) => watcher.once("terminated", resolve));
  watcher.start();
  const event = await ended;
  const interrupted = event.reason === "stopped" || event.reason === "aborted";
  print(
    "terminated",
    {
      roomId,
      reason: event.reason,
      lastConnection: event.lastConnection,
      ...(event.hostState === undefined ? {} : { hostState: event.hostState }),
      ...(event.detail === undefined ? {} : { detail: event.detail }),
      at: event.at,
      ...(event.cause === undefined ? {} : { cause: errorJson(event.cause) }),
      evidence: evidenceJson(event.evidence),
    },
    // The evidence names the last error, the cause of a `failed` ending included.
    interrupted ? event.reason : `${event.reason}: ${describeEvidence(event.evidence)}`,
  );
  await watcher.stop();
  return exitCodeOf(event.reason, event.cause);
}
