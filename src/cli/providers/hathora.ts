/** `--provider hathora` (the default): the rooms API's connection info, polled over HTTP. */
import { Option } from "commander";
import { ConfigError } from "../../core/errors.js";
import { validateToken } from "../../core/validate.js";
import { DEFAULT_BASE_URL, HathoraHttpSource } from "../../providers/hathora/http-source.js";
import { Simulator } from "../../simulator/simulator.js";
import { DEFAULT_MAX_REQUESTS_PER_SECOND } from "../../watch/fleet.js";
import { type CliProvider, flagValue, type UpstreamFlags } from "./provider.js";

const ENV = { appId: "HATHORA_APP_ID", baseUrl: "HATHORA_BASE_URL", token: "HATHORA_TOKEN" } as const;


export const hathora: CliProvider = {
  name: "hathora",
  summary: "Hathora rooms API (or compatible): --app-id, --base-url, --token, --api-version",
  flagKeys: ["appId", "baseUrl", "token", "apiVersion"],
  env: ENV,
  options: () => [
    new Option("--app-id <id>", `Hathora: the application (env ${ENV.appId}; required)`),
    new Option("--api-version <version>", "Hathora: connection-info endpoint (default: v2)").choices(["v1", "v2"]),
  ],
  // eslint-disable-next-line @typescript-eslint/require-await -- the seam is async: other providers load credentials first
  async source(flags, io) {
    const appId = flagValue(flags, "appId") ?? io.env[ENV.appId];
    if (appId === undefined || appId === "") throw new ConfigError(`--app-id (${ENV.appId}) is required with --provider hathora`);
    const token = tokenOf(flags, io.env);
    return new HathoraHttpSource({
      appId,
      baseUrl: flagValue(flags, "baseUrl") ?? io.env[ENV.baseUrl] ?? DEFAULT_BASE_URL,
      token,
      apiVersion: flagValue(flags, "apiVersion") === "v1" ? "v1" : "v2",
    });
  },
  secrets: (flags, env) => [flagValue(flags, "token"), env[ENV.token]],
  // Hathora publishes no request limit for connection info: the fleet's own default.
  maxRequestsPerSecond: DEFAULT_MAX_REQUESTS_PER_SECOND,
  async simulate(options) {
    const appId = flagValue(options.flags, "appId");
    const simulator = await Simulator.start({
      port: options.port,
      hostname: options.host,
      seed: options.seed,
      token: options.token,
      appId,
      timeScale: options.timeScale,
    });
    return {
      url: simulator.url,
      details: { port: simulator.port, appId: appId ?? null },
      banner: `simulator listening (seed ${options.seed}, time scale ${options.timeScale}, admin token ${options.token === undefined ? "any" : "set"}${appId === undefined ? "" : `, app ${appId}`})`,
      close: () => simulator.close(),
    };
  },
};

/** The rooms API token, refused here, by flag, when no header could carry it. */
function tokenOf(flags: UpstreamFlags, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const token = flagValue(flags, "token") ?? env[ENV.token];
  return token === undefined || token === "" ? token : validateToken(`--token (${ENV.token})`, token);
}
