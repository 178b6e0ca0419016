/** `room-watcher simulate`: run a provider's fake host until Ctrl-C; the first line is its URL (JSON with --json). */
import { ExitCode } from "../exit-codes.js";
import { type CliIo, line } from "../io.js";
import { providerOf } from "../providers/index.js";

export interface SimulateCliOptions {
  /** `--provider`: which host to fake. Default hathora. */
  provider?: string | undefined;
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
  const provider = providerOf(options, undefined);
  const simulator = await provider.simulate(
    { port: options.port, host: options.host, seed: options.seed, timeScale: options.timeScale, token: options.token, flags: options },
    io,
  );
  if (options.json) {
    line(io.stdout, JSON.stringify({ provider: provider.name, url: simulator.url, seed: options.seed, timeScale: options.timeScale, ...simulator.details }));
  } else {
    line(io.stdout, simulator.url);
  }
  line(io.stderr, `${simulator.banner}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await simulator.close();
  return ExitCode.OK;
}
