/**
 * Readiness hints on the wire: a game server tells the gateway its room may be ready with
 * `POST /hints/{roomId}` and `Authorization: Bearer <hint token>`, no body. The gateway's endpoint
 * and the sender share this.
 */

/** The path prefix of the hint endpoint; the room id follows it. */
export const HINT_PATH_PREFIX = "/hints/";
