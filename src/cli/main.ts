#!/usr/bin/env node
/** The `room-watcher` executable: wires the CLI to the process (streams, environment, signals). */
import { runCli } from "./program.js";

const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  interrupts++;
  // A second Ctrl-C means "now": don't wait for a clean shutdown.
  if (interrupts > 1) process.exit(130);
  controller.abort(new Error(`interrupted by ${signal}`));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// Whoever reads our output went away (`room-watcher watch | head`): stop as if interrupted, instead of
// dying on an unhandled 'error' event. Later writes to the closed stream land here too, harmlessly.
const onOutputError = (error: NodeJS.ErrnoException): void => {
  if (!controller.signal.aborted) controller.abort(new Error(`output closed (${error.code ?? error.message})`));
};
process.stdout.on("error", onOutputError);
process.stderr.on("error", onOutputError);

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
process.off("SIGINT", onSignal);
process.off("SIGTERM", onSignal);
process.exitCode = code;
