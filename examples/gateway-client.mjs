// Wait for a room through a room-watcher gateway: the gateway polls each room once, however many
// clients wait for it, and pushes every change to them over a WebSocket.
// Run: npm install && node examples/gateway-client.mjs
//
// In production the gateway runs on its own, next to nothing but the rooms API:
//   room-watcher gateway --base-url https://api.hathora.dev --app-id "$APP" --port 4100 --client-token "$CLIENT_TOKEN"
// and clients need only its URL and token. Here the simulator and the gateway run in-process.
import { HathoraHttpSource, RoomWatcher, WebSocketSource, waitForActive, withFallback } from "room-watcher";
import { Gateway, sendReadyHint } from "room-watcher/gateway";
import { Simulator } from "room-watcher/simulator";

const appId = "app-example";
const simulator = await Simulator.start({ seed: 42, timeScale: 10 }); // cold starts take ~0.5 s
const gateway = await Gateway.start({
  baseUrl: simulator.url,
  appId,
  clientToken: "client-token", // clients present it; others are closed with 4401
  hintToken: "server-token", // game servers present it with readiness hints
  pollOptions: { activePollIntervalMs: 500 }, // look at active rooms often, to see the end soon
});
console.log(`gateway at ${gateway.url}`);

try {
  // The client side: a WebSocket source instead of polling. With withFallback, if the gateway stays
  // unreachable for 5 s, the rooms API is polled directly, and push takes over again once it is back.
  const source = withFallback(
    new WebSocketSource({ url: gateway.url, token: "client-token" }),
    new HathoraHttpSource({ appId, baseUrl: simulator.url }),
    { fallbackAfterMs: 5_000 },
  );

  // 1. Block until players can join: the same waitForActive, fed by pushes.
  const { roomId } = simulator.createRoom(appId, { scenario: "cold" });
  const { exposedPort } = await waitForActive({ roomId, source, timeoutMs: 30_000 });
  console.log(`room ${roomId} is joinable at ${exposedPort.host}:${exposedPort.port} (${exposedPort.transportType})`);

  // 2. Follow a room to its end: every change arrives as the gateway learns it.
  const other = simulator.createRoom(appId, { scenario: "cold" }).roomId;
  const watcher = new RoomWatcher({ roomId: other, source });
  await new Promise((resolve) => {
    watcher.on("starting", () => console.log(`room ${other}: starting`));
    watcher.on("active", (e) => {
      console.log(`room ${other}: active at ${e.exposedPort.host}:${e.exposedPort.port}`);
      // The game server, the instant it binds its port, may tell the gateway (its own token);
      // the gateway then looks upstream at once. A hint is never taken as truth.
      sendReadyHint({ gatewayUrl: gateway.url, roomId: other, token: "server-token" })
        .then(() => simulator.destroyRoom(appId, other))
        .catch((error) => console.error(error));
    });
    watcher.on("terminated", (e) => {
      console.log(`room ${other}: ended (${e.reason})`);
      resolve(undefined);
    });
    watcher.start();
  });
  await watcher.stop();
  console.log(`upstream requests: ${gateway.stats.upstreamRequests} for 2 rooms`);
} finally {
  await gateway.close();
  await simulator.close();
}
