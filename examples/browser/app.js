// The player's side: ask the backend for a match, then wait through the gateway with the ticket it gave.
import { RoomWatcher, WebSocketSource } from "room-watcher";

const $ = (id) => document.getElementById(id);
function show(status, text = status) {
  $("status").dataset.status = status;
  $("status").textContent = text;
}

async function findMatch() {
  $("find").disabled = true;
  show("requesting", "asking the backend for a match");
  const response = await fetch("/match", { method: "POST" });
  if (!response.ok) throw new Error(`the backend answered ${response.status}`);
  const { roomId, ticket, gatewayUrl } = await response.json();
  $("room").textContent = roomId;

  const source = new WebSocketSource({ url: gatewayUrl, ticket });
  const watcher = new RoomWatcher({ roomId, source, timeoutMs: 120_000 });
  watcher.on("starting", () => show("starting", "starting: the server is booting"));
  watcher.on("active", ({ exposedPort }) => {
    $("address").textContent = `${exposedPort.host}:${exposedPort.port}`;
    show("active", `ready (${exposedPort.transportType})`);
  });
  watcher.on("terminated", ({ reason, cause }) => show("terminated", `ended: ${reason}${cause instanceof Error ? ` (${cause.message})` : ""}`));
  watcher.on("error", ({ error }) => show("error", error.message));
  // The watcher keeps listening: a room that moves shows its new address, one that ends says so.
  watcher.start();
}

$("find").addEventListener("click", () => findMatch().catch((error) => show("error", error.message)));
$("find").disabled = false;
document.body.dataset.ready = "true";
