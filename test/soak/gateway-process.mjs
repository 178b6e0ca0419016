// The soak's gateway, in a process of its own so the soak can SIGKILL it: built as `room-watcher gateway`
// builds it (a fleet of its own with a request budget), with the soak's poll options, which the CLI does
// not all expose. Usage: node gateway-process.mjs '{"gateway": GatewayOptions, "fleet": FleetOptions}'.
// Prints the WebSocket URL once listening; SIGTERM closes it gracefully (exit 0). Needs a build (dist/).
import { Fleet, Gateway } from "../../dist/index.js";

const { gateway: gatewayOptions, fleet: fleetOptions } = JSON.parse(process.argv[2] ?? "{}");
const fleet = new Fleet(fleetOptions);
const gateway = await Gateway.start({ ...gatewayOptions, fleet });
process.stdout.write(`${gateway.url}\n`);
process.once("SIGTERM", () => {
  gateway
    .close()
    .then(() => fleet.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
