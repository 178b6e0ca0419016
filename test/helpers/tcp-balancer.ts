/**
 * A TCP load balancer on 127.0.0.1 (port 0) in front of several gateway instances, as a deployment
 * puts one: each new connection goes to the next backend in turn, and to the one after when a
 * backend refuses (it died). Clients of a dead instance therefore reconnect "elsewhere" through the
 * same URL. The balancer knows nothing of WebSocket: it pipes bytes.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpBalancer {
  /** ws://127.0.0.1:<port> */
  readonly url: string;
  /** Connections piped to each backend so far, by its port. */
  readonly accepted: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

export async function startTcpBalancer(backendPorts: readonly number[]): Promise<TcpBalancer> {
  const sockets = new Set<Socket>();
  const accepted = new Map<number, number>();
  let next = 0;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    client.pause();
    const start = next++;
    const attempt = (tried: number): void => {
      if (tried >= backendPorts.length || client.destroyed) {
        client.destroy();
        return;
      }
      const port = backendPorts[(start + tried) % backendPorts.length] as number;
      const backend = createConnection({ host: "127.0.0.1", port });
      let connected = false;
      backend.once("connect", () => {
        connected = true;
        accepted.set(port, (accepted.get(port) ?? 0) + 1);
        track(backend);
        client.pipe(backend);
        backend.pipe(client);
        client.resume();
        // Either side gone: so is the other (a dead instance's clients see their connection drop).
        client.once("close", () => backend.destroy());
        backend.once("close", () => client.destroy());
      });
      backend.once("error", () => {
        backend.destroy();
        if (!connected) attempt(tried + 1);
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
