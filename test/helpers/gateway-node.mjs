// One gateway in a process of its own, for tests that kill it (SIGKILL: no goodbye, no release).
// Usage: node test/helpers/gateway-node.mjs '<GatewayOptions as JSON>'. Prints one JSON line,
// {url, port, instanceId}, once listening; SIGTERM closes it gracefully. Needs a build (dist/).
import { Gateway } from "../../dist/index.js";

const gateway = await Gateway.start(JSON.parse(process.argv[2] ?? "{}"));
process.stdout.write(`${JSON.stringify({ url: gateway.url, port: gateway.port, instanceId: gateway.instanceId })}\n`);
process.once("SIGTERM", () => {
  gateway.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
