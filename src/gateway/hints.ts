/**
 * Readiness hints, gateway side: `POST /hints/{roomId}` with `Authorization: Bearer <hintToken>`.
 * A hint is never truth: an accepted one makes the hub look upstream at once, so a forged or
 * mistaken hint costs one request. Refused hints (disabled, bad token, malformed or unwatched room)
 * are answered with a status and counted.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ROOM_ID_PATTERN } from "../core/validate.js";
import { TokenCheck } from "./token.js";
import type { GatewayLogger } from "./logging.js";
import type { GatewayMetrics, HintOutcome } from "./metrics.js";
import type { RoomHub } from "./room-hub.js";


export class HintEndpoint {
  readonly #token: TokenCheck | undefined;
  readonly #hub: RoomHub;
  readonly #metrics: GatewayMetrics;
  readonly #logger: GatewayLogger;

  constructor(hintToken: string | undefined, hub: RoomHub, metrics: GatewayMetrics, logger: GatewayLogger) {
    this.#token = hintToken === undefined ? undefined : new TokenCheck(hintToken);
    this.#hub = hub;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** Answers one hint request (the caller matched the method and the prefix). */
  handle(req: IncomingMessage, res: ServerResponse, roomIdSegment: string): void {
    // The body is ignored; drain it so the connection can be reused.
    req.resume();
    if (this.#token === undefined) {
      this.#answer(res, "disabled", 404, { message: "hints are disabled on this gateway" });
      return;
    }
    if (!this.#token.matchesHeader(req.headers.authorization)) {
      this.#answer(res, "unauthorized", 401, { message: "Unauthorized" });
      return;
    }
    let roomId: string;
    try {
      roomId = decodeURIComponent(roomIdSegment);
    } catch {
      roomId = "";
    }
    if (!ROOM_ID_PATTERN.test(roomId)) {
      this.#answer(res, "invalid", 400, { message: "room id must be 1..100 characters of [a-zA-Z0-9_-]" });
      return;
    }
    const outcome = this.#hub.hint(roomId);
    if (outcome === "unknown_room") {
      this.#answer(res, "unknown_room", 404, { message: `room ${roomId} is not watched by this gateway` });
      return;
    }
    this.#logger.debug({ roomId, outcome }, "readiness hint");
    this.#answer(res, outcome, 202, { outcome });
  }

  #answer(res: ServerResponse, outcome: HintOutcome, status: number, body: unknown): void {
    this.#metrics.hints.inc({ outcome });
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
  }
}
