/** `room-watcher simulate`: run the simulator until Ctrl-C; the first line is its base URL (JSON with --json). */
import { Simulator } from "../../simulator/simulator.js";
import { ExitCode } from "../exit-codes.js";
import { type CliIo, line } from "../io.js";

export interface SimulateCliOptions {
  port: number;
  host: string;
  seed: number;
  token?: string | undefined;
  appId?: string | undefined;
  timeScale: number;
  /** Print the first line as JSON. */
  json?: boolean | undefined;
}

export async function runSimulate(options: SimulateCliOptions, io: CliIo): Promise<number> {
  const simulator = await Simulator.start({
    port: options.port,
    hostname: options.host,
    seed: options.seed,
    token: options.token,
    appId: options.appId,
    timeScale: options.timeScale,
  });
  if (options.json) {
    line(io.stdout, JSON.stringify({ url: simulator.url, port: simulator.port, seed: options.seed, timeScale: options.timeScale, appId: options.appId ?? null }));
  } else {
    line(io.stdout, simulator.url);
  }
  line(
    io.stderr,
    `simulator listening (seed ${options.seed}, time scale ${options.timeScale}, admin token ${options.token === undefined ? "any" : "set"}${options.appId === undefined ? "" : `, app ${options.appId}`}); Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await simulator.close();
  return ExitCode.OK;
}
