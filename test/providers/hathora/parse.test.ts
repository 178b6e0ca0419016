import { describe, expect, it } from "vitest";
import { InvalidPayloadError } from "../../../src/core/errors.js";
import { parseConnectionInfoV1, parseConnectionInfoV2, parseJson, apiErrorMessage } from "../../../src/providers/hathora/parse.js";
import { ApiErrorSchema, ConnectionInfoV2Schema, RoomConnectionDataSchema, RoomSchema, RoomWithoutAllocationsSchema } from "../../../src/providers/hathora/schemas.js";

const port = { host: "1.proxy.hathora.dev", name: "default", port: 34567, transportType: "tcp" };

describe("ConnectionInfoV2", () => {
  it("parses the reference's active example", () => {
    const result = parseConnectionInfoV2({ additionalExposedPorts: [], exposedPort: port, status: "active", roomId: "2swovpy1fnunu" }, "2swovpy1fnunu");
    expect(result).toEqual({ observation: { kind: "active", connection: { exposedPort: port, additionalExposedPorts: [] } }, warnings: [] });
  });

  it("parses starting without an exposedPort", () => {
    expect(parseConnectionInfoV2({ additionalExposedPorts: [], status: "starting", roomId: "r1" }).observation).toEqual({ kind: "starting" });
  });

  it("keeps additional ports and drops fields it does not know", () => {
    const debug = { ...port, name: "debug", port: 4000 };
    const parsed = ConnectionInfoV2Schema.parse({ additionalExposedPorts: [debug], exposedPort: port, status: "active", roomId: "r", extra: 1 });
    expect(parsed).toEqual({ additionalExposedPorts: [debug], exposedPort: port, status: "active", roomId: "r" });
  });

  it("tolerates and reports an unknown transport type", () => {
    const result = parseConnectionInfoV2({ additionalExposedPorts: [], exposedPort: { ...port, transportType: "quic" }, status: "active", roomId: "r" });
    expect(result.observation.kind).toBe("active");
    expect(result.warnings).toEqual([expect.objectContaining({ code: "UNKNOWN_TRANSPORT_TYPE", value: "quic" })]);
  });

  it("tolerates and reports an unknown status without changing anything", () => {
    const result = parseConnectionInfoV2({ additionalExposedPorts: [], status: "warming", roomId: "r" });
    expect(result.observation).toEqual({ kind: "unrecognized", status: "warming" });
    expect(result.warnings).toEqual([expect.objectContaining({ code: "UNKNOWN_STATUS", value: "warming" })]);
  });

  it.each(["destroyed", "suspended"])("treats the legacy %s status as terminal", (status) => {
    expect(parseConnectionInfoV2({ additionalExposedPorts: [], status, roomId: "r" }).observation).toEqual({ kind: "ended", reason: status });
  });

  it.each([
    ["active without exposedPort", { additionalExposedPorts: [], status: "active", roomId: "r" }],
    ["missing additionalExposedPorts", { status: "starting", roomId: "r" }],
    ["three additional ports", { additionalExposedPorts: [port, port, port], status: "starting", roomId: "r" }],
    ["port as string", { additionalExposedPorts: [], exposedPort: { ...port, port: "34567" }, status: "active", roomId: "r" }],
    ["fractional port", { additionalExposedPorts: [], exposedPort: { ...port, port: 1.5 }, status: "active", roomId: "r" }],
    ["port out of range", { additionalExposedPorts: [], exposedPort: { ...port, port: 70_000 }, status: "active", roomId: "r" }],
    ["host missing", { additionalExposedPorts: [], exposedPort: { port: 1, name: "default", transportType: "tcp" }, status: "active", roomId: "r" }],
    ["status a number", { additionalExposedPorts: [], status: 1, roomId: "r" }],
    ["roomId missing", { additionalExposedPorts: [], status: "starting" }],
    ["null body", null],
    ["array body", []],
    ["string body", "active"],
  ])("rejects %s as INVALID_PAYLOAD with the zod issues as cause", (_name, body) => {
    let caught: unknown;
    try {
      parseConnectionInfoV2(body);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidPayloadError);
    expect(caught).toMatchObject({ code: "RW_INVALID_PAYLOAD", retryable: true });
    expect(Array.isArray((caught as Error).cause)).toBe(true);
  });

  it("rejects an answer for another room", () => {
    expect(() => parseConnectionInfoV2({ additionalExposedPorts: [], status: "starting", roomId: "other" }, "mine")).toThrow(InvalidPayloadError);
  });

  it("rejects text that is not JSON", () => {
    expect(() => parseJson('{"status": "act')).toThrow(expect.objectContaining({ code: "RW_INVALID_PAYLOAD" }));
  });
});

describe("v1 ConnectionInfo", () => {
  it("normalises ActiveConnectionInfo into an ExposedPort named default", () => {
    const result = parseConnectionInfoV1({ status: "active", transportType: "udp", port: 7777, host: "h", roomId: "r" });
    expect(result.observation).toEqual({
      kind: "active",
      connection: { exposedPort: { host: "h", port: 7777, transportType: "udp", name: "default" }, additionalExposedPorts: [] },
    });
  });

  it("parses StartingConnectionInfo", () => {
    expect(parseConnectionInfoV1({ status: "starting", roomId: "r" }).observation).toEqual({ kind: "starting" });
  });

  it("tolerates an unknown status", () => {
    expect(parseConnectionInfoV1({ status: "warming", roomId: "r" }).observation).toEqual({ kind: "unrecognized", status: "warming" });
  });

  it.each([
    [{ status: "active", port: 7777, host: "h", roomId: "r" }],
    [{ status: "active", transportType: "udp", port: "7777", host: "h", roomId: "r" }],
    [{ Status: "starting", RoomID: "r" }],
  ])("rejects %j", (body) => {
    expect(() => parseConnectionInfoV1(body)).toThrow(InvalidPayloadError);
  });
});

describe("other wire types", () => {
  const allocation = { roomAllocationId: "a1", processId: "p1", scheduledAt: "2026-11-23T10:00:00.000Z", unscheduledAt: null };

  it("RoomConnectionData requires processId", () => {
    expect(RoomConnectionDataSchema.safeParse({ additionalExposedPorts: [], status: "starting", roomId: "r", processId: "p" }).success).toBe(true);
    expect(RoomConnectionDataSchema.safeParse({ additionalExposedPorts: [], status: "starting", roomId: "r" }).success).toBe(false);
  });

  it("Room accepts the documented statuses, a null allocation and tolerates new statuses", () => {
    for (const status of ["scheduling", "active", "destroyed", "suspended", "migrating"]) {
      expect(RoomSchema.safeParse({ roomId: "r", appId: "a", status, currentAllocation: null, allocations: [] }).success).toBe(true);
    }
    expect(RoomSchema.safeParse({ roomId: "r", appId: "a", status: "active", currentAllocation: allocation, allocations: [allocation], roomConfig: null }).success).toBe(true);
  });

  it("Room rejects bad dates and over-long roomConfig", () => {
    expect(RoomSchema.safeParse({ roomId: "r", appId: "a", status: "active", currentAllocation: { ...allocation, scheduledAt: "yesterday" }, allocations: [] }).success).toBe(false);
    expect(RoomSchema.safeParse({ roomId: "r", appId: "a", status: "active", currentAllocation: null, allocations: [], roomConfig: "x".repeat(10_001) }).success).toBe(false);
  });

  it("room lists come without allocations", () => {
    expect(RoomWithoutAllocationsSchema.safeParse({ roomId: "r", appId: "a", status: "active", currentAllocation: allocation }).success).toBe(true);
  });

  it("ApiError", () => {
    expect(ApiErrorSchema.safeParse({ message: "nope" }).success).toBe(true);
    expect(apiErrorMessage('{"message":"Room not found"}')).toBe("Room not found");
    expect(apiErrorMessage("<html>")).toBeUndefined();
  });
});
