// One gateway in a process of its own, for tests that kill it (SIGKILL: no goodbye, no release).
// Usage: node test/helpers/gateway-node.mjs '<GatewayOptions as JSON>'; an optional `fleet` key holds
// Fleet options (a request budget, as `room-watcher gateway` builds one). Prints one JSON line,
// {url, port, instanceId}, once listening; SIGTERM closes it gracefully. Needs a build (dist/).
import { Fleet } from "../../dist/index.js";
import { Gateway } from "../../dist/gateway/index.js";

const { fleet: fleetOptions, ...options } = JSON.parse(process.argv[2] ?? "{}");
const fleet = fleetOptions === undefined ? undefined : new Fleet(fleetOptions);
const gateway = await Gateway.start({ ...options, fleet });
process.stdout.write(`${JSON.stringify({ url: gateway.url, port: gateway.port, instanceId: gateway.instanceId })}\n`);
process.once("SIGTERM", () => {
  gateway
    .close()
    .then(() => fleet?.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
