/**
 * Closes (issue 18, smaller findings): those the ws library makes itself (1009 oversize, 1007 bad UTF-8,
 * 1002 bad framing) are counted like the gateway's own; and the invalid-message limit counts a window of
 * a connection's latest messages, so invalid ones between valid ones cannot go on for ever.
 */
import { afterEach, describe, expect, it } from "vitest";
import { GatewayCloseCode } from "../../../src/protocol/close-codes.js";
import { connectRaw } from "../../helpers/ws-client.js";
import { abuseGateway, metric } from "./abuse-gateway.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A masked client frame made by hand: `first` is FIN, RSV and opcode. */
function frame(first: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([first, 0x80 | payload.length]), mask, masked]);
}

describe("closes", () => {
  it("counts the closes the WebSocket library makes: 1009, 1007, 1002", async () => {
    const t = await abuseGateway({ limits: { maxFrameBytes: 64 } });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const big = await connectRaw(t.gateway.url);
    big.send({ type: "subscribe", roomId: "a".repeat(100) });
    const utf8 = await connectRaw(t.gateway.url);
    // A text frame (FIN, opcode 1) that is not UTF-8.
    (utf8.ws as unknown as { _socket: NodeJS.WritableStream })._socket.write(frame(0x81, Buffer.from([0xff, 0xfe])));
    const rsv = await connectRaw(t.gateway.url);
    // RSV1 set with no extension negotiated.
    (rsv.ws as unknown as { _socket: NodeJS.WritableStream })._socket.write(frame(0xc1, Buffer.from("{}")));
    await Promise.all([big.closed, utf8.closed, rsv.closed]);
    expect(await metric(t.gateway, 'room_watcher_gateway_closes_total{code="1009"}')).toBe(1);
    expect(await metric(t.gateway, 'room_watcher_gateway_closes_total{code="1007"}')).toBe(1);
    expect(await metric(t.gateway, 'room_watcher_gateway_closes_total{code="1002"}')).toBe(1);
  });

  it("closes with 4400 a client alternating 19 invalid messages with 1 valid one", async () => {
    const t = await abuseGateway();
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const client = await connectRaw(t.gateway.url);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 19; i++) client.send("{not json");
      client.send({ type: "unsubscribe", roomId: "nothing" });
    }
    // A marker: answered (with a snapshot) only if the connection is still open after the 100 messages.
    client.send({ type: "subscribe", roomId: "marker" });
    const stillOpen = await client.next((m) => m.type === "snapshot").then(
      () => true,
      () => false,
    );
    expect(stillOpen).toBe(false);
    expect((await client.closed).code).toBe(GatewayCloseCode.PROTOCOL_VIOLATION);
    // Closed at the 20th invalid message: 19 errors answered before it.
    expect(client.messages.filter((m) => m.type === "error")).toHaveLength(19);
    expect(await metric(t.gateway, `room_watcher_gateway_closes_total{code="${GatewayCloseCode.PROTOCOL_VIOLATION}"}`)).toBe(1);
  });
});
