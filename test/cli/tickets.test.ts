/**
 * Room tickets from the command line, through the built CLI as a child process: `ticket` mints one a
 * gateway accepts (exit 2 on bad input, naming the flag); `gateway --ticket-secret` (or its variable)
 * admits a ticket's holder and refuses to start on a secret too short; `wait --gateway --ticket` waits
 * for the ticket's room and fails, naming the refusal, for another room or a forged ticket. No secret
 * and no ticket is ever printed or logged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { Gateway } from "../../src/gateway/server.js";
import { mintTicket, ticketKeyId, TicketKeyring, verifyTicket } from "../../src/gateway/ticket.js";
import { GATEWAY_SUBPROTOCOL } from "../../src/protocol/messages.js";
import { ticketSubprotocol } from "../../src/protocol/ticket-format.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { cliForTest, killAllCli } from "../helpers/cli-process.js";
import { connectRaw } from "../helpers/ws-client.js";

const APP = "app-cli-tickets";
const SECRET = "cli-ticket-secret-0123456789-abcdefgh";
const PREVIOUS = "cli-previous-secret-0123456789-abcdefgh";
/** Nothing listens here: a room seen active came through the gateway. */
const DEAD_BASE_URL = "http://127.0.0.1:59";

let sim: Simulator;
let gateway: Gateway;
const logLines: string[] = [];

beforeAll(async () => {
  sim = await Simulator.start({ seed: 16, timeScale: 50, appId: APP });
  const log = (fields: object, message: string): void => void logLines.push(`${message} ${JSON.stringify(fields)}`);
  gateway = await Gateway.start({ baseUrl: sim.url, appId: APP, ticketSecret: SECRET, logger: { debug: log, info: log, warn: log, error: log } });
});

afterAll(async () => {
  await killAllCli();
  await gateway.close();
  await sim.close();
});

const cli = cliForTest;

describe("room-watcher ticket", () => {
  it("prints a ticket for the rooms that a gateway with the same secret (from ROOM_WATCHER_TICKET_SECRET) accepts, and never the secret", async (context) => {
    const run = await cli(context, ["ticket", "--room", "room-a", "--room", "room-b", "--ttl", "10m"], { env: { ROOM_WATCHER_TICKET_SECRET: SECRET } }).exited;
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    const ticket = run.stdout.trim();
    const grant = verifyTicket(ticket, { keys: new TicketKeyring(SECRET) });
    expect(grant.rooms).toEqual(["room-a", "room-b"]);
    expect(grant.expiresAtMs - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(grant.expiresAtMs - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    expect(run.stdout).not.toContain(SECRET);
  });

  it("with --json prints the ticket, its rooms, key id and expiry", async (context) => {
    const run = await cli(context, ["ticket", "--secret", SECRET, "--room", "r1", "--ttl", "60s", "--key-id", "k-2026", "--json"]).exited;
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as { ticket: string; rooms: string[]; keyId: string; expiresAtMs: number };
    expect(printed).toMatchObject({ rooms: ["r1"], keyId: "k-2026" });
    expect(verifyTicket(printed.ticket, { keys: new TicketKeyring({ secret: SECRET, keyId: "k-2026" }) }).expiresAtMs).toBe(printed.expiresAtMs);
    expect(run.stdout).not.toContain(SECRET);
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ["no secret", ["--room", "r1", "--ttl", "60s"], {}, /^room-watcher: --secret \(or ROOM_WATCHER_TICKET_SECRET\) is required/],
    ["a secret too short", ["--secret", "short-secret-xyz", "--room", "r1", "--ttl", "60s"], {}, /^room-watcher: --secret \(ROOM_WATCHER_TICKET_SECRET\) has fewer than 32 characters/],
    ["a secret with a trailing line feed, from the variable", ["--room", "r1", "--ttl", "60s"], { ROOM_WATCHER_TICKET_SECRET: `${SECRET}\n` }, /--secret \(ROOM_WATCHER_TICKET_SECRET\) contains a line feed/],
    ["no room", ["--secret", SECRET, "--ttl", "60s"], {}, /^room-watcher: --room is required/],
    ["a room id that is none", ["--secret", SECRET, "--room", "../etc", "--ttl", "60s"], {}, /^room-watcher: invalid --room "\.\.\/etc"/],
    ["too many rooms", ["--secret", SECRET, "--room", ...Array.from({ length: 33 }, (_, i) => `r${i}`), "--ttl", "60s"], {}, /^room-watcher: --room names 33 rooms; a ticket names at most 32/],
    ["no TTL", ["--secret", SECRET, "--room", "r1"], {}, /^room-watcher: --ttl is required/],
    ["a TTL without its unit", ["--secret", SECRET, "--room", "r1", "--ttl", "60"], {}, /option '--ttl <duration>' argument '60' is invalid\. expected a positive duration with its unit/],
    ["a TTL over a day", ["--secret", SECRET, "--room", "r1", "--ttl", "25h"], {}, /^room-watcher: --ttl must be at most 86400000 \(one day\)/],
    ["a bad key id", ["--secret", SECRET, "--room", "r1", "--ttl", "60s", "--key-id", "a.b"], {}, /^room-watcher: invalid --key-id "a\.b"/],
  ])("exits 2 on %s, naming the flag, printing nothing else", async (_name, args, env, message) => {
    const run = await cliForTest({ onTestFinished: () => undefined }, ["ticket", ...args], { env }).exited;
    expect(run.code, run.stderr).toBe(ExitCode.USAGE);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain(SECRET);
  });
});

describe("room-watcher gateway --ticket-secret", () => {
  it("admits a ticket signed with the current or the previous secret (from the variables), and logs neither secret nor ticket", async (context) => {
    const run = cli(context, ["gateway", "--base-url", sim.url, "--app-id", APP, "--log-level", "debug"], {
      env: { ROOM_WATCHER_TICKET_SECRET: SECRET, ROOM_WATCHER_TICKET_SECRET_PREVIOUS: PREVIOUS },
      lifetimeMs: 20_000,
    });
    const url = await run.line(() => true);
    const tickets = [SECRET, PREVIOUS].map((secret) => mintTicket({ secret, rooms: ["r1"], ttlMs: 60_000 }));
    for (const ticket of tickets) {
      const client = await connectRaw(url, { protocols: [GATEWAY_SUBPROTOCOL, ticketSubprotocol(ticket)] });
      await client.next((m) => m.type === "welcome");
      client.send({ type: "subscribe", roomId: "r2" });
      expect(await client.next((m) => m.type === "error")).toMatchObject({ code: "room_not_in_ticket", roomId: "r2" });
      client.ws.close();
      await client.closed;
    }
    const forged = await connectRaw(url, { protocols: [GATEWAY_SUBPROTOCOL, ticketSubprotocol(mintTicket({ secret: `${SECRET}-other`, keyId: ticketKeyId(SECRET), rooms: ["r1"], ttlMs: 60_000 }))] });
    expect((await forged.closed).code).toBe(4403);
    run.kill("SIGTERM");
    const result = await run.exited;
    expect(result.code).toBe(0);
    // The key ids are logged at start (they name the secrets, and say nothing of them); nothing else of either.
    expect(result.stderr).toContain(ticketKeyId(SECRET));
    for (const text of [SECRET, PREVIOUS, ...tickets.map((t) => t.split(".")[1] ?? "")]) expect(result.stdout + result.stderr).not.toContain(text);
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ["a secret too short", ["--ticket-secret", "short-secret"], {}, /^room-watcher: --ticket-secret \(ROOM_WATCHER_TICKET_SECRET\) has fewer than 32 characters/],
    ["a previous secret too short, from its variable", ["--ticket-secret", SECRET], { ROOM_WATCHER_TICKET_SECRET_PREVIOUS: "short-secret" }, /^room-watcher: --ticket-secret-previous \(ROOM_WATCHER_TICKET_SECRET_PREVIOUS\) has fewer than 32/],
    ["a previous secret without a current one", ["--ticket-secret-previous", PREVIOUS], {}, /^room-watcher: --ticket-secret-previous \(ROOM_WATCHER_TICKET_SECRET_PREVIOUS\) needs --ticket-secret/],
    ["the same secret twice", ["--ticket-secret", SECRET, "--ticket-secret-previous", SECRET], {}, /^room-watcher: --ticket-secret-previous has the key id \S+ of the current ticket secret/],
  ])("exits 2 at start on %s, naming the flag, no URL printed", async (_name, args, env, message) => {
    const run = await cliForTest({ onTestFinished: () => undefined }, ["gateway", "--base-url", DEAD_BASE_URL, "--app-id", APP, ...args], { env, lifetimeMs: 5_000 }).exited;
    expect(run.code, run.stderr).toBe(ExitCode.USAGE);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    for (const secret of [SECRET, PREVIOUS, "short-secret"]) expect(run.stderr).not.toContain(secret);
  });
});

describe("wait --gateway --ticket", () => {
  it("prints host:port of the ticket's room, pushed by the gateway (the rooms API unreachable), and never the ticket", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const ticket = mintTicket({ secret: SECRET, rooms: [roomId], ttlMs: 60_000 });
    const result = await cli(context, ["wait", roomId, "--app-id", APP, "--base-url", DEAD_BASE_URL, "--gateway", gateway.url], { env: { ROOM_WATCHER_TICKET: ticket } }).exited;
    const truth = sim.truth(roomId);
    expect(result).toEqual({ code: ExitCode.OK, signal: null, stdout: `${truth?.exposedPort?.host}:${truth?.exposedPort?.port}\n`, stderr: "" });
  });

  it.each([
    ["for another room", "room_not_in_ticket", (roomId: string) => mintTicket({ secret: SECRET, rooms: [`${roomId}x`], ttlMs: 60_000 }), /gateway refused the subscription: this connection's ticket does not name this room/],
    ["forged", "4403", () => mintTicket({ secret: PREVIOUS, keyId: ticketKeyId(SECRET), rooms: ["any"], ttlMs: 60_000 }), /the gateway refused our room ticket \(close code 4403: ticket refused: bad signature\)/],
    ["expired", "4410", (roomId: string) => mintTicket({ secret: SECRET, rooms: [roomId], ttlMs: 1_000, now: Date.now() - 60_000 }), /our room ticket has expired \(close code 4410\): get a new one/],
  ])("a ticket %s fails the wait with exit 1, naming the refusal (%s), never printing the ticket", async (_name, _code, mint, message) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const ticket = mint(roomId);
    const result = await cliForTest({ onTestFinished: () => undefined }, ["wait", roomId, "--app-id", APP, "--base-url", DEAD_BASE_URL, "--gateway", gateway.url, "--ticket", ticket]).exited;
    expect(result.code, result.stderr).toBe(ExitCode.ERROR);
    expect(result.stderr).toMatch(message);
    expect(result.stdout + result.stderr).not.toContain(ticket.split(".")[1]);
    expect(logLines.join("\n")).not.toContain(ticket.split(".")[1]);
  });

  it.each<[string, string[], RegExp]>([
    ["without --gateway", ["--ticket", "abc.def"], /^room-watcher: --ticket \(ROOM_WATCHER_TICKET\) is for the gateway: give --gateway too/],
    ["beside --gateway-token", ["--gateway", "ws://127.0.0.1:59", "--ticket", "abc.def", "--gateway-token", "tok3n"], /^room-watcher: give --ticket or --gateway-token, not both/],
    ["not shaped like a ticket", ["--gateway", "ws://127.0.0.1:59", "--ticket", "abc def"], /^room-watcher: --ticket is not a room ticket/],
  ])("exits 2 with --ticket %s", async (_name, args, message) => {
    const run = await cliForTest({ onTestFinished: () => undefined }, ["wait", "r1", "--app-id", APP, "--base-url", DEAD_BASE_URL, ...args]).exited;
    expect(run.code, run.stderr).toBe(ExitCode.USAGE);
    expect(run.stderr).toMatch(message);
  });
});
