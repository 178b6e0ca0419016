// A game backend route: POST /matches creates a room and answers once players can join it. If the
// caller goes away first, the wait is cancelled through an AbortSignal and the room destroyed, so
// nothing keeps polling for a room nobody will join.
//
// Run: npm install && node examples/http-backend.mjs
//      curl -X POST http://127.0.0.1:<port>/matches
// With no HATHORA_BASE_URL it starts the embedded simulator. Against Hathora or a compatible host set
// HATHORA_BASE_URL, HATHORA_APP_ID and HATHORA_TOKEN (creating and destroying rooms need the token).
import { createServer } from "node:http";
import { RoomWatcherError, waitForActive } from "room-watcher";
import { Simulator } from "room-watcher/simulator";

const embedded = process.env.HATHORA_BASE_URL ? undefined : await Simulator.start({ seed: 1, timeScale: 10 });
const baseUrl = process.env.HATHORA_BASE_URL ?? embedded.url;
const appId = process.env.HATHORA_APP_ID ?? "app-example";
const token = process.env.HATHORA_TOKEN ?? "dev-token";

/** One admin call of the rooms API (create, destroy): bearer token, JSON in and out. */
async function roomsApi(path, body, signal) {
  const response = await fetch(`${baseUrl}/rooms/v2/${appId}/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
    signal,
  });
  if (!response.ok) throw new Error(`${path.split("/")[0]}: HTTP ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function createMatch(req, res) {
  // The caller hanging up before we answer cancels everything done on its behalf.
  const caller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) caller.abort(new Error("the caller went away"));
  });

  let roomId;
  try {
    ({ roomId } = await roomsApi("create", { region: "Seattle" }, caller.signal));
    console.log(`room ${roomId}: created, waiting until players can join`);
    const { exposedPort } = await waitForActive({ roomId, appId, baseUrl, timeoutMs: 120_000, signal: caller.signal });
    console.log(`room ${roomId}: joinable at ${exposedPort.host}:${exposedPort.port}`);
    reply(res, 200, { roomId, host: exposedPort.host, port: exposedPort.port, transportType: exposedPort.transportType });
  } catch (error) {
    if (caller.signal.aborted) {
      // waitForActive rejected with the signal's reason and left nothing running.
      if (roomId !== undefined) {
        await roomsApi(`destroy/${roomId}`).catch((cause) => console.error(`room ${roomId}: destroy failed: ${cause.message}`));
      }
      console.log(`room ${roomId ?? "(none)"}: ${caller.signal.reason.message}; wait cancelled, room destroyed`);
      return;
    }
    // RoomTerminatedError (destroyed first), WaitTimeoutError, or a terminal API error.
    const code = error instanceof RoomWatcherError ? error.code : "INTERNAL";
    console.log(`room ${roomId ?? "(none)"}: ${error.message}`);
    reply(res, code === "RW_TIMEOUT" ? 504 : 503, { roomId, code, message: error.message });
  }
}

const server = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/matches") void createMatch(req, res);
  else reply(res, 404, { message: "try POST /matches" });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port} (rooms API ${baseUrl})`);
});

// Ctrl-C: stop accepting; the process then exits by itself once nothing is left running.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    server.close();
    void embedded?.close();
  });
}
