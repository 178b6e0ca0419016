/**
 * A free loopback port below the kernel's ephemeral range, for a server a test restarts on the same port:
 * a port 0 gives an ephemeral one, which an outgoing connection may take as its local port while the
 * server is down, so the restart fails with EADDRINUSE.
 */
import { createServer } from "node:net";

/** Linux's default ephemeral range starts at 32768; ports from 20000 up to it are free for servers. */
const LOW = 20_000;
const HIGH = 32_768;

export async function freeStablePort(random: () => number = Math.random): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOW + Math.floor(random() * (HIGH - LOW));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in [${LOW}, ${HIGH}) after 100 tries`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
