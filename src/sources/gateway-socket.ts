/**
 * A WebSocket to the gateway on whichever implementation the runtime has: the standard one
 * (`globalThis.WebSocket`: browsers, Node >= 22, Deno, Bun), or the `ws` package, imported the first
 * time a source connects and only where it is needed, so that importing room-watcher loads no
 * Node-only code. The source sees one small interface either way.
 */
import { ConfigError } from "../core/errors.js";

/** Which WebSocket a source uses: the runtime's standard one, or the `ws` package. */
export type WebSocketImplementation = "global" | "ws";

/** What a socket tells its owner. Nothing is called after `onClose`. */
export interface SocketHandlers {
  onOpen(): void;
  /** A text frame, decoded as UTF-8. */
  onText(text: string): void;
  /** A binary frame (the gateway protocol has none). */
  onBinary(): void;
  /** A ping from the peer: only `ws` surfaces them; the standard WebSocket answers them unseen. */
  onPing(): void;
  onError(error: unknown): void;
  /** The close code, 1006 when the connection broke or was dropped, and the peer's reason ("" for none). */
  onClose(code: number, reason: string): void;
}

export interface GatewaySocket {
  /** Whether the peer's pings reach `onPing`, so that a watchdog may count them as signs of life. */
  readonly seesPings: boolean;
  readonly isOpen: boolean;
  send(text: string): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection at once; `onClose(1006)` follows asynchronously. */
  terminate(): void;
}

export interface SocketRequest {
  readonly url: string;
  /** The subprotocols to offer: the gateway's, and the ticket's entry when there is one. */
  readonly protocols: readonly string[];
  /** Only `ws` can send headers; the choice below guarantees it is the one asked when there are any. */
  readonly headers: Readonly<Record<string, string>>;
  readonly maxPayloadBytes: number;
}

export type SocketFactory = (request: SocketRequest, handlers: SocketHandlers) => GatewaySocket;

/** The runtime's standard WebSocket class, if it has one. */
function globalWebSocket(): StandardWebSocketClass | undefined {
  const candidate = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof candidate === "function" ? (candidate as StandardWebSocketClass) : undefined;
}

/**
 * Which WebSocket to use. A token goes in an `Authorization` header, which the standard WebSocket cannot
 * send (the browser API has no headers; Node's undici accepts them only through a non-standard option),
 * so with a token we take `ws`: on Node that keeps exactly the handshake ws has always made, and where
 * ws cannot load (a browser) the connect fails with a ConfigError instead of sending no token. Without
 * one, the runtime's own WebSocket is preferred, and ws is the fallback of a runtime that has none (Node 20).
 */
export function chooseWebSocket(preference: WebSocketImplementation | undefined, hasToken: boolean, hasGlobal = globalWebSocket() !== undefined): WebSocketImplementation {
  switch (preference) {
    case "global":
      if (hasToken) throw new ConfigError(`webSocket "global" cannot send the token: the standard WebSocket cannot set an Authorization header (use "ws", or no token)`);
      if (!hasGlobal) throw new ConfigError(`webSocket "global": this runtime has no global WebSocket (use "ws")`);
      return "global";
    case "ws":
      return "ws";
    case undefined:
      return hasToken || !hasGlobal ? "ws" : "global";
    default:
      throw new ConfigError(`webSocket must be "global" or "ws", got ${JSON.stringify(String(preference)).slice(0, 40)}`);
  }
}

/** The factory for `implementation`; `ws` is imported here, on first use. Rejects with a ConfigError when it cannot be had. */
export async function loadSocketFactory(implementation: WebSocketImplementation, hasToken: boolean, importWs: () => Promise<unknown> = () => import("ws")): Promise<SocketFactory> {
  if (implementation === "global") {
    const WebSocket = globalWebSocket();
    if (WebSocket === undefined) throw new ConfigError("this runtime has no global WebSocket");
    return standardSocketFactory(WebSocket);
  }
  const why = hasToken ? "to send the token as an Authorization header, which a browser's WebSocket cannot" : "as this runtime has no global WebSocket";
  let module: unknown;
  try {
    module = await importWs();
  } catch (error) {
    throw new ConfigError(`WebSocketSource needs the ws package ${why}, and it could not be loaded: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const WebSocket = (module as { WebSocket?: unknown } | undefined)?.WebSocket;
  // A bundler that maps ws to its browser stub hands us a module without the client class.
  if (typeof WebSocket !== "function" || typeof (WebSocket as { prototype?: { terminate?: unknown } }).prototype?.terminate !== "function") {
    throw new ConfigError(`WebSocketSource needs the ws package ${why}, and this runtime's ws is not the Node client`);
  }
  return wsSocketFactory(WebSocket as WsClass);
}

// The slice of the standard WebSocket API we use: no lib "dom" here, and ws must not leak into public types.
interface StandardWebSocket {
  binaryType: string;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { readonly code: number; readonly reason: string }) => void): void;
}
type StandardWebSocketClass = new (url: string, protocols: string[]) => StandardWebSocket;

const OPEN = 1;
/** The code a dropped or broken connection reports, as ws and browsers do. */
const ABNORMAL_CLOSURE = 1006;

function standardSocketFactory(WebSocket: StandardWebSocketClass): SocketFactory {
  return (request, handlers) => {
    // No maxPayload here: the standard API has none, and the runtime keeps its own limits.
    const socket = new WebSocket(request.url, [...request.protocols]);
    socket.binaryType = "arraybuffer";
    // Once dropped (by us or by its close), nothing more from this socket reaches the handlers.
    let done = false;
    socket.addEventListener("open", () => {
      if (!done) handlers.onOpen();
    });
    socket.addEventListener("message", (event) => {
      if (done) return;
      if (typeof event.data === "string") handlers.onText(event.data);
      else handlers.onBinary();
    });
    socket.addEventListener("error", () => {
      // The standard API says no more than that something failed.
      if (!done) handlers.onError(new Error("WebSocket error"));
    });
    socket.addEventListener("close", (event) => {
      if (done) return;
      done = true;
      handlers.onClose(event.code, event.reason);
    });
    return {
      seesPings: false,
      get isOpen() {
        return socket.readyState === OPEN;
      },
      send: (text) => socket.send(text),
      close: (code, reason) => socket.close(code, reason),
      terminate: () => {
        if (done) return;
        done = true;
        // The standard API cannot drop a connection without a handshake a dead peer never answers:
        // start it, and call the connection closed now, as ws's terminate() does.
        socket.close();
        queueMicrotask(() => handlers.onClose(ABNORMAL_CLOSURE, ""));
      },
    };
  };
}

// The slice of ws's client we use, typed here so that no declaration file imports ws.
interface WsSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  terminate(): void;
  on(event: "open" | "ping", listener: () => void): void;
  on(event: "message", listener: (data: unknown, isBinary: boolean) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  once(event: "close", listener: (code: number, reason: Uint8Array) => void): void;
}
type WsClass = new (url: string, protocols: string[], options: { headers: Record<string, string>; maxPayload: number; perMessageDeflate: boolean }) => WsSocket;

function wsSocketFactory(WebSocket: WsClass): SocketFactory {
  return (request, handlers) => {
    const socket = new WebSocket(request.url, [...request.protocols], { headers: { ...request.headers }, maxPayload: request.maxPayloadBytes, perMessageDeflate: false });
    socket.on("open", () => handlers.onOpen());
    socket.on("message", (data, isBinary) => {
      if (isBinary) handlers.onBinary();
      else handlers.onText(decodeUtf8(data));
    });
    socket.on("ping", () => handlers.onPing());
    socket.on("error", (error) => handlers.onError(error));
    socket.once("close", (code, reason) => handlers.onClose(code, decodeUtf8(reason)));
    return {
      seesPings: true,
      get isOpen() {
        return socket.readyState === OPEN;
      },
      send: (text) => socket.send(text),
      close: (code, reason) => socket.close(code, reason),
      terminate: () => socket.terminate(),
    };
  };
}

/** ws hands a text frame over as bytes (a Buffer, which is a Uint8Array; fragments as an array of them). */
function decodeUtf8(data: unknown): string {
  const decoder = new TextDecoder();
  if (Array.isArray(data)) return data.map((chunk) => decoder.decode(chunk as Uint8Array, { stream: true })).join("") + decoder.decode();
  return decoder.decode(data as Uint8Array | ArrayBuffer);
}
