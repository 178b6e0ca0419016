// The backend route a browser game needs: POST /match creates a room and answers with a ticket for that
// room alone. The page presents the ticket to the gateway (a browser cannot send a token there); the
// gateway secret and the rooms API token stay on this server.
import { mintTicket } from "room-watcher/gateway";

export function matchRoute({ createRoom, ticketSecret, gatewayUrl }) {
  return async (req, res) => {
    const { roomId } = await createRoom();
    const ticket = mintTicket({ secret: ticketSecret, rooms: [roomId], ttlMs: 120_000 });
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify({ roomId, ticket, gatewayUrl }));
  };
}
