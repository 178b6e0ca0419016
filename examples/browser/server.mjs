// A browser game's whole path in one process: a page (index.html, app.js) that asks this server for a
// match, the ten-line route that creates the room and mints a ticket for it (ticket-route.mjs), and a
// gateway that admits the ticket's holder to that room only.
//
// Run: npm install && node examples/browser/server.mjs   then open the URL it prints.
// With no HATHORA_BASE_URL it starts the embedded simulator. Against Hathora or a compatible host set
// HATHORA_BASE_URL, HATHORA_APP_ID and HATHORA_TOKEN. TICKET_SECRET (32+ characters) signs the tickets;
// without it a random one is made for this run.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Gateway } from "room-watcher/gateway";
import { Simulator } from "room-watcher/simulator";
import { matchRoute } from "./ticket-route.mjs";

const embedded = process.env.HATHORA_BASE_URL ? undefined : await Simulator.start({ seed: 2, timeScale: 10 });
const baseUrl = process.env.HATHORA_BASE_URL ?? embedded.url;
const appId = process.env.HATHORA_APP_ID ?? "app-example";
const token = process.env.HATHORA_TOKEN ?? "dev-token";
const ticketSecret = process.env.TICKET_SECRET ?? randomBytes(32).toString("base64url");

// The page's files. Your bundler would make /room-watcher.js; here esbuild (a devDependency of this
// repository) bundles the package's browser-safe core entry once at start.
const bundle = await build({
  entryPoints: [fileURLToPath(import.meta.resolve("room-watcher"))],
  bundle: true, platform: "browser", format: "esm", write: false, logLevel: "silent", external: ["ws"],
});
const files = {
  "/": ["text/html; charset=utf-8", await readFile(new URL("index.html", import.meta.url))],
  "/app.js": ["text/javascript; charset=utf-8", await readFile(new URL("app.js", import.meta.url))],
  "/room-watcher.js": ["text/javascript; charset=utf-8", bundle.outputFiles[0].contents],
};

async function createRoom() {
  const response = await fetch(`${baseUrl}/rooms/v2/${appId}/create`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ region: "Seattle" }),
  });
  if (!response.ok) throw new Error(`create: HTTP ${response.status}`);
  return response.json();
}

const site = createServer();
await new Promise((resolve) => site.listen(Number(process.env.PORT ?? 0), "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${site.address().port}`;
const gateway = await Gateway.start({ baseUrl, appId, token, ticketSecret, allowedOrigins: [origin], defaultMetrics: false });
const match = matchRoute({ createRoom, ticketSecret, gatewayUrl: gateway.url });

site.on("request", (req, res) => {
  const path = new URL(req.url ?? "/", origin).pathname;
  if (req.method === "POST" && path === "/match") {
    match(req, res).catch((error) => {
      console.error(`match: ${error.message}`);
      res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ error: "no room" }));
    });
    return;
  }
  const file = req.method === "GET" ? files[path] : undefined;
  if (file === undefined) return void res.writeHead(404).end();
  res.writeHead(200, { "content-type": file[0], "cache-control": "no-store" }).end(file[1]);
});

console.log(`open ${origin}/ (gateway ${gateway.url})`);

async function shutdown() {
  site.closeAllConnections();
  await Promise.all([new Promise((resolve) => site.close(resolve)), gateway.close()]);
  await embedded?.close();
}
process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());
