/** `--provider edgegap`: deployments as rooms, their status polled within Edgegap's rate limit. */
import { Option } from "commander";
import { ConfigError } from "../../core/errors.js";
import { validateToken } from "../../core/validate.js";
import { EDGEGAP_DEFAULT_BASE_URL, EdgegapHttpSource } from "../../providers/edgegap/http-source.js";
import { EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND } from "../../providers/edgegap/rate-limits.js";
import { edgegapWebhookReceiver } from "../../providers/edgegap/webhooks.js";
import { EdgegapSimulator } from "../../simulator/edgegap/simulator.js";
import { type CliProvider, flagValue } from "./provider.js";

const ENV = { baseUrl: "EDGEGAP_BASE_URL", token: "EDGEGAP_TOKEN" } as const;

export const edgegap: CliProvider = {
  name: "edgegap",
  summary: "Edgegap deployments: --token, --port-name, --host-field, --base-url",
  flagKeys: ["baseUrl", "token", "portName", "hostField"],
  env: ENV,
  options: () => [new Option("--host-field <field>", "Edgegap: the address players get (default: fqdn)").choices(["fqdn", "public_ip"])],
  // eslint-disable-next-line @typescript-eslint/require-await -- the seam is async: other providers load credentials first
  async source(flags, io) {
    const raw = flagValue(flags, "token") ?? io.env[ENV.token];
    if (raw === undefined || raw === "") throw new ConfigError(`--token (${ENV.token}) is required with --provider edgegap: the organisation's API token`);
    const token = validateToken(`--token (${ENV.token})`, raw);
    const portName = flagValue(flags, "portName");
    if (portName === undefined) throw new ConfigError("--port-name is required with --provider edgegap: the app version's port players connect to");
    // The gateway's --max-requests-per-second is the whole process's budget: Edgegap's status share too.
    const maxRequestsPerSecond: unknown = Reflect.get(flags, "maxRequestsPerSecond");
    return new EdgegapHttpSource({
      token,
      portName,
      maxRequestsPerSecond: typeof maxRequestsPerSecond === "number" ? maxRequestsPerSecond : undefined,
      hostField: flagValue(flags, "hostField") === "public_ip" ? "public_ip" : "fqdn",
      baseUrl: flagValue(flags, "baseUrl") ?? io.env[ENV.baseUrl] ?? EDGEGAP_DEFAULT_BASE_URL,
    });
  },
  secrets: (flags, env) => [flagValue(flags, "token"), env[ENV.token]],
  webhooks: (secret) => edgegapWebhookReceiver(secret),
  maxRequestsPerSecond: EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND,
  async simulate(options) {
    const simulator = await EdgegapSimulator.start({ port: options.port, hostname: options.host, seed: options.seed, timeScale: options.timeScale, token: options.token });
    return {
      url: simulator.url,
      details: { port: simulator.port },
      banner: `Edgegap simulator listening (seed ${options.seed}, time scale ${options.timeScale}, API token ${options.token === undefined ? "any" : "set"})`,
      close: () => simulator.close(),
    };
  },
};
