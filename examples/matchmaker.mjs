// A matchmaker on one fleet: create a room per match through the admin API, await them all on one
// request budget, hand each connection to its players, and deal with a room that never becomes ready.
// Runs on the embedded simulator: node examples/matchmaker.mjs
// Against Hathora: drop the simulator; baseUrl https://api.hathora.dev, your appId and a dev token.
import { Fleet, WaitTimeoutError, waitForActive } from "room-watcher";
import { Simulator } from "room-watcher/simulator";

const appId = "app-matchmaker";
const token = "dev-token"; // the admin API's bearer token; never printed
const simulator = await Simulator.start({ seed: 11, timeScale: 10, token }); // 10x: cold starts take ~0.5 s
const baseUrl = simulator.url;

/** POST /rooms/v2/{appId}/create: the response names the room and the process it landed on. */
async function createRoom(region) {
  const response = await fetch(`${baseUrl}/rooms/v2/${appId}/create`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ region }),
  });
  if (!response.ok) throw new Error(`create failed: HTTP ${response.status}`);
  return response.json(); // { roomId, processId, status: "starting", ... }
}

async function destroyRoom(roomId) {
  await fetch(`${baseUrl}/rooms/v2/${appId}/destroy/${roomId}`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
}

// One fleet for the whole matchmaker: one request budget, one poll per room however many wait on it.
const fleet = new Fleet({ appId, baseUrl, maxRequestsPerSecond: 20 });
fleet.on("paused", (e) => console.log(`upstream asked us to slow down until ${new Date(e.until).toISOString()}`));

const matches = [
  { id: "match-1", players: ["ana", "bo", "cy", "di"], region: "Seattle" },
  { id: "match-2", players: ["ed", "flo"], region: "Seattle" },
  { id: "match-3", players: ["gus", "hal", "ivy"], region: "Frankfurt" },
  { id: "match-4", players: ["jo", "kai", "lu", "mo"], region: "Seattle" },
  { id: "match-5", players: ["ned", "oz"], region: "Frankfurt" },
];

async function startMatch(match, room, timeoutMs) {
  const started = Date.now();
  try {
    // processId lets the fleet look at this room the moment a sibling on its process turns active.
    const { exposedPort } = await waitForActive({ roomId: room.roomId, fleet, processId: room.processId, timeoutMs });
    const address = `${exposedPort.host}:${exposedPort.port}`;
    console.log(`${match.id}: ${match.players.length} players -> ${address} (room ${room.roomId}, ${Date.now() - started} ms)`);
    return { match: match.id, roomId: room.roomId, address };
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    // Never became joinable: free it, and send the players back to the queue.
    await destroyRoom(room.roomId);
    console.log(`${match.id}: room ${room.roomId} not joinable within ${timeoutMs} ms; destroyed it, ${match.players.length} players back in the queue`);
    return { match: match.id, roomId: room.roomId, address: undefined };
  }
}

try {
  const pending = [];
  for (const match of matches) pending.push(startMatch(match, await createRoom(match.region), 30_000));
  // One room whose process never binds its port (the simulator's own API makes one on purpose).
  const stuck = simulator.createRoom(appId, { scenario: "never" });
  pending.push(startMatch({ id: "match-6", players: ["pip", "quin"] }, stuck, 1_500));

  const results = await Promise.all(pending);
  const { requests } = fleet.stats;
  console.log(`${results.filter((r) => r.address).length} of ${results.length} matches started; ${requests} connection-info requests in all`);
  // The simulator's record, to show the addresses are right (a real matchmaker has no such oracle).
  for (const r of results) {
    const truth = simulator.truth(r.roomId);
    const real = truth?.exposedPort ? `${truth.exposedPort.host}:${truth.exposedPort.port}` : truth?.status;
    console.log(`check ${r.match}: ${r.address ?? "none"} / simulator: ${real}`);
  }
} finally {
  await fleet.close();
  await simulator.close();
}
