// A game backend route on Edgegap: POST /matches creates a deployment whose webhook_on_* point at a
// room-watcher gateway, waits through that gateway until players can join, and answers with the address.
// The webhooks are hints only (Edgegap signs nothing): each makes the gateway look once, within the
// organisation's request budget; a lost one costs nothing but its head start, since the gateway polls on.
//
// Run: npm install && node examples/edgegap-backend.mjs
//      curl -X POST http://127.0.0.1:<port>/matches
// With no EDGEGAP_BASE_URL it starts a fake Edgegap and a gateway in this process. Against Edgegap set
// EDGEGAP_BASE_URL (https://api.edgegap.com), EDGEGAP_TOKEN, EDGEGAP_APP, EDGEGAP_VERSION, and the gateway
// that polls Edgegap for you (`room-watcher gateway --provider edgegap --webhook-secret ...`):
// GATEWAY_URL (its ws:// URL, reachable by Edgegap for the webhooks) and WEBHOOK_SECRET.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { RoomWatcherError, WebSocketSource, waitForActive } from "room-watcher";
import { EdgegapHttpSource, edgegapWebhookReceiver, edgegapWebhooks } from "room-watcher/edgegap";
import { Gateway } from "room-watcher/gateway";
import { EdgegapSimulator } from "room-watcher/simulator";

const embedded = process.env.EDGEGAP_BASE_URL ? undefined : await startEmbedded();
const baseUrl = process.env.EDGEGAP_BASE_URL ?? embedded.simulator.url;
const token = process.env.EDGEGAP_TOKEN ?? "dev-token"; // the organisation's token: never printed
const application = process.env.EDGEGAP_APP ?? "my-game";
const version = process.env.EDGEGAP_VERSION ?? "v1";
const gatewayUrl = process.env.GATEWAY_URL ?? embedded?.gateway.url;
const webhookSecret = process.env.WEBHOOK_SECRET ?? embedded?.secret;
if (gatewayUrl === undefined || webhookSecret === undefined) {
  console.error("set GATEWAY_URL and WEBHOOK_SECRET: the gateway that polls Edgegap and takes its webhooks");
  process.exit(2);
}
// One connection to the gateway for every match: it polls each deployment once, however many wait.
const source = new WebSocketSource({ url: gatewayUrl });

/** A fake Edgegap and a gateway in front of it, as `room-watcher gateway --provider edgegap` runs one. */
async function startEmbedded() {
  const simulator = await EdgegapSimulator.start({ seed: 1, timeScale: 10, token: "dev-token" });
  const secret = randomBytes(16).toString("hex");
  const gateway = await Gateway.start({
    source: new EdgegapHttpSource({ baseUrl: simulator.url, token: "dev-token", portName: "gameport" }),
    webhooks: [edgegapWebhookReceiver(secret)],
  });
  return { simulator, gateway, secret };
}

/** One call of Edgegap's API: `Authorization: token <key>`, JSON in and out. */
async function edgegap(method, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `token ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path.split("/").slice(0, 3).join("/")}: HTTP ${response.status}`);
  return response.json();
}

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function createMatch(res) {
  let requestId;
  try {
    ({ request_id: requestId } = await edgegap("POST", "/v2/deployments", {
      application,
      version,
      users: [{ user_type: "ip_address", user_data: { ip_address: "203.0.113.7" } }],
      ...edgegapWebhooks(gatewayUrl, webhookSecret),
    }));
    console.log(`deployment ${requestId}: created, waiting until players can join`);
    const { exposedPort } = await waitForActive({ roomId: requestId, source, timeoutMs: 300_000 });
    console.log(`deployment ${requestId}: joinable at ${exposedPort.host}:${exposedPort.port}`);
    reply(res, 200, { requestId, host: exposedPort.host, port: exposedPort.port, transportType: exposedPort.transportType });
  } catch (error) {
    // RoomTerminatedError (ERROR, with Edgegap's error_detail, or stopped), WaitTimeoutError, a refused token.
    const code = error instanceof RoomWatcherError ? error.code : "INTERNAL";
    console.log(`deployment ${requestId ?? "(none)"}: ${error.message}`);
    if (requestId !== undefined && code === "RW_TIMEOUT") await edgegap("DELETE", `/v1/stop/${requestId}`).catch(() => undefined);
    reply(res, code === "RW_TIMEOUT" ? 504 : 503, { requestId, code, message: error.message });
  }
}

const server = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/matches") void createMatch(res);
  else reply(res, 404, { message: "try POST /matches" });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port} (Edgegap ${baseUrl}, gateway ${gatewayUrl})`);
});

// Ctrl-C: stop accepting; the process then exits by itself once nothing is left running.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    server.close();
    void embedded?.simulator.close().then(() => embedded.gateway.close());
  });
}
