/**
 * The status mapping, table-driven from the reference's example bodies (shared/reference/
 * edgegap-deployments-api.md §3), with both sides of each disagreement between the sources.
 */
import { describe, expect, it } from "vitest";
import { InvalidPayloadError, UnknownPortError } from "../../../src/core/errors.js";
import { parseDeploymentStatus, statusName, transportOf } from "../../../src/providers/edgegap/parse.js";

/** §3.3: the 2026 spec's field set with the 2024 spec's port examples. */
const READY = {
  request_id: "c0653765de3b",
  fqdn: "c0653765de3b.pr.edgegap.net",
  public_ip: "192.53.120.48",
  app_name: "test",
  app_version: "v1",
  current_status: "Status.READY",
  last_status: "Status.DEPLOYING",
  running: true,
  start_time: "2026-04-22 12:00:46.444265",
  elapsed_time: 12,
  max_duration: 1440,
  removal_time: null,
  error: false,
  error_detail: null,
  ports: {
    "7777": { external: 31669, internal: 7777, protocol: "UDP", name: "7777", tls_upgrade: false, link: "example.com:31669", proxy: 65002 },
    web: { external: 31587, internal: 8080, protocol: "http", name: "web", tls_upgrade: true, link: "https://example.com:31587", proxy: 65001 },
  },
  location: { city: "Montreal", country: "Canada", continent: "North America", administrative_division: "Quebec", timezone: "Eastern Time", latitude: 45.508888, longitude: -73.561668 },
  tags: ["production"],
  command: null,
  arguments: null,
};

/** §3.2: the 2024 spec's shape: whitelisting_active, sessions, sockets, no max_duration. */
const { max_duration: _dropped, ...READY_2024_BASE } = READY;
const READY_2024 = { ...READY_2024_BASE, whitelisting_active: false, sessions: [{ session_id: "s1", status: "Status.READY", ready: true, linked: true, kind: "Seat", user_count: 2 }], sockets: "10", sockets_usage: 0 };

const port7777 = { host: "c0653765de3b.pr.edgegap.net", port: 31669, transportType: "udp", name: "7777" };
const portWeb = { host: "c0653765de3b.pr.edgegap.net", port: 31587, transportType: "tls", name: "web" };

const withStatus = (current_status: string, extra: Record<string, unknown> = {}) => ({ ...READY, current_status, running: false, ...extra });

describe("parseDeploymentStatus", () => {
  it.each([
    ["the 2026 spec's shape", READY],
    ["the 2024 spec's shape (sockets, sessions, proxy; no max_duration)", READY_2024],
  ])("a READY deployment in %s is active on the named port's external, the others additional", (_name, body) => {
    expect(parseDeploymentStatus(body, { portName: "7777" })).toEqual({
      observation: { kind: "active", connection: { exposedPort: port7777, additionalExposedPorts: [portWeb] } },
      warnings: [],
    });
  });

  it("takes public_ip instead of fqdn when asked", () => {
    const result = parseDeploymentStatus(READY, { portName: "web", hostField: "public_ip" });
    expect(result.observation).toEqual({
      kind: "active",
      connection: {
        exposedPort: { ...portWeb, host: "192.53.120.48" },
        additionalExposedPorts: [{ ...port7777, host: "192.53.120.48" }],
      },
    });
  });

  it.each([
    ["Status.INITIALIZING"],
    ["Status.SEEKING"],
    ["Status.SEEKED"],
    ["Status.SCANNING"],
    ["Status.DEPLOYING"],
  ])("%s is starting, ports or not", (status) => {
    expect(parseDeploymentStatus(withStatus(status, { ports: null, public_ip: null }), { portName: "7777" })).toEqual({ observation: { kind: "starting" }, warnings: [] });
    expect(parseDeploymentStatus(withStatus(status), { portName: "7777" })).toEqual({ observation: { kind: "starting" }, warnings: [] });
  });

  it.each([
    ["Status.READY", false],
    ["READY", false],
    ["STATUS_READY", false],
    ["status.ready", false],
    ["Status.DEPLOYING", true],
  ])("%s with running %s is active (READY in any spelling, or running: true)", (status, running) => {
    const result = parseDeploymentStatus({ ...READY, current_status: status, running }, { portName: "7777" });
    expect(result.observation).toMatchObject({ kind: "active", connection: { exposedPort: port7777 } });
    expect(result.warnings).toEqual([]);
  });

  it.each([
    ["Status.ERROR with its error_detail", withStatus("Status.ERROR", { error: true, error_detail: "Pull image timeout exceeded" }), { detail: "Pull image timeout exceeded" }],
    ["Status.ERROR with error still false", withStatus("Status.ERROR", { error_detail: "boom" }), { detail: "boom" }],
    ["error: true while DEPLOYING", withStatus("Status.DEPLOYING", { error: true, error_detail: "Couldn't allocate" }), { detail: "Couldn't allocate" }],
    ["error: true even with running: true", { ...READY, error: true, error_detail: "crashed" }, { detail: "crashed" }],
    ["Status.ERROR with a null error_detail", withStatus("Status.ERROR", { error: true, error_detail: null }), {}],
    ["Status.ERROR with an empty error_detail", withStatus("Status.ERROR", { error: true, error_detail: "" }), {}],
  ])("%s ends with reason error and hostState ERROR", (_name, body, detail) => {
    expect(parseDeploymentStatus(body, { portName: "7777" })).toEqual({
      observation: { kind: "ended", reason: "error", hostState: "ERROR", ...detail },
      warnings: [],
    });
  });

  it.each([
    ["Status.TERMINATING", "shutdown", "TERMINATING", false],
    ["Status.TERMINATING", "shutdown", "TERMINATING", true],
    ["Status.TERMINATED", "destroyed", "TERMINATED", false],
  ])("%s ends with reason %s (running %s)", (status, reason, hostState, running) => {
    expect(parseDeploymentStatus({ ...READY, current_status: status, running }, { portName: "7777" })).toEqual({
      observation: { kind: "ended", reason, hostState },
      warnings: [],
    });
  });

  it("keeps an unknown status as unrecognized, with a warning, and never throws", () => {
    expect(parseDeploymentStatus(withStatus("Status.HIBERNATING"), { portName: "7777" })).toEqual({
      observation: { kind: "unrecognized", status: "Status.HIBERNATING" },
      warnings: [{ code: "UNKNOWN_STATUS", value: "Status.HIBERNATING", message: 'undocumented deployment status "Status.HIBERNATING"' }],
    });
  });

  it("an unknown status with running: true is active, and still warned about", () => {
    const result = parseDeploymentStatus({ ...READY, current_status: "Status.WARM" }, { portName: "7777" });
    expect(result.observation.kind).toBe("active");
    expect(result.warnings).toEqual([expect.objectContaining({ code: "UNKNOWN_STATUS", value: "Status.WARM" })]);
  });

  it("a port name the ready deployment lacks is an UnknownPortError naming the ones it has; not retryable", () => {
    let error: unknown;
    try {
      parseDeploymentStatus(READY, { portName: "gameport" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnknownPortError);
    expect(error).toMatchObject({ code: "RW_UNKNOWN_PORT", retryable: false, portName: "gameport", available: ["7777", "web"] });
    expect((error as Error).message).toMatch(/^the deployment has no port named "gameport" \(it has "7777", "web"\)/);
  });

  it("finds a port by its name field when no key matches (the key is the name in every example, but the spec keys it loosely)", () => {
    const body = { ...READY, ports: { p0: { ...READY.ports["7777"], name: "gameport" } } };
    expect(parseDeploymentStatus(body, { portName: "gameport" }).observation).toMatchObject({ kind: "active", connection: { exposedPort: { port: 31669, name: "p0" } } });
  });

  it("a port name is not needed before the deployment is ready", () => {
    expect(parseDeploymentStatus(withStatus("Status.SCANNING"), { portName: "nope" }).observation).toEqual({ kind: "starting" });
  });

  it.each([
    ["a status body with no current_status", { request_id: "c0653765de3b" }, /current_status/],
    ["a status body with no request_id", { current_status: "Status.READY" }, /request_id/],
    ["an external port that is a string", { ...READY, ports: { "7777": { ...READY.ports["7777"], external: "31669" } } }, /ports\.7777\.external/],
    ["running as a string", { ...READY, running: "true" }, /running/],
    ["an array", [READY], /\(root\)/],
    ["a ready deployment with no fqdn", { ...READY, fqdn: null }, /no fqdn/],
    ["a ready deployment with no ports", { ...READY, ports: null }, /no ports/],
  ])("%s is an InvalidPayloadError", (_name, body, message) => {
    expect(() => parseDeploymentStatus(body, { portName: "7777" })).toThrow(InvalidPayloadError);
    expect(() => parseDeploymentStatus(body, { portName: "7777" })).toThrow(message);
  });

  it("a body for another deployment is an InvalidPayloadError", () => {
    expect(() => parseDeploymentStatus(READY, { portName: "7777", expectedRequestId: "aaaaaaaaaaaa" })).toThrow(/for request "c0653765de3b", not "aaaaaaaaaaaa"/);
  });

  it("an undocumented protocol is kept, lowercased, and warned about", () => {
    const body = { ...READY, ports: { "7777": { ...READY.ports["7777"], protocol: "TCP/UDP" } } };
    const result = parseDeploymentStatus(body, { portName: "7777" });
    expect(result.observation).toMatchObject({ kind: "active", connection: { exposedPort: { transportType: "tcp/udp" } } });
    expect(result.warnings).toEqual([{ code: "UNKNOWN_TRANSPORT_TYPE", value: "TCP/UDP", message: 'port "7777" has an undocumented protocol "TCP/UDP"' }]);
  });
});

describe("transportOf", () => {
  it.each([
    ["UDP", false, "udp"],
    ["udp", false, "udp"],
    ["TCP", false, "tcp"],
    ["HTTP", false, "tcp"],
    ["http", true, "tls"],
    ["WS", false, "tcp"],
    ["WS", true, "tls"],
    ["HTTPS", false, "tls"],
    ["WSS", false, "tls"],
  ])("%s (tls_upgrade %s) is %s", (protocol, tls_upgrade, transportType) => {
    expect(transportOf({ protocol, tls_upgrade })).toEqual({ transportType, known: true });
  });
});

describe("statusName", () => {
  it.each([
    ["Status.READY", "READY"],
    ["STATUS_ERROR", "ERROR"],
    ["terminated", "TERMINATED"],
    [" Status.Seeking ", "SEEKING"],
  ])("%s -> %s", (input, name) => {
    expect(statusName(input)).toBe(name);
  });
});
