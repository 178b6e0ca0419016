/**
 * Tokens: which ones an `Authorization: Bearer` header can carry (validateToken), checked against what
 * fetch (undici) and ws (Node's http) really send to a Node server; and how the gateway compares a
 * presented header with its token (TokenCheck: the whole credential after the scheme).
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { ConfigError } from "../../src/core/errors.js";
import { sendReadyHint } from "../../src/sources/ready-hint.js";
import { TokenCheck } from "../../src/gateway/token.js";
import { HathoraHttpSource } from "../../src/providers/hathora/http-source.js";
import { validateToken } from "../../src/core/validate.js";
import { WebSocketSource } from "../../src/sources/websocket-source.js";

/** Tokens validateToken accepts: printable ASCII, spaces and tabs inside. */
const ACCEPTED = ["s3cret", "a b", "with  two  spaces", "tab\tinside", "~!#$%&'*+-.^_`|", 'quote"and\\backslash', "x".repeat(4096), "=", "Bearer lookalike"];

/** Tokens it refuses, and the words its message must contain. */
const REFUSED: ReadonlyArray<readonly [label: string, token: string, reason: RegExp]> = [
  ["a line feed", "abc\ndef", /line feed \(U\+000A\).*no HTTP header/],
  ["a trailing line feed (a file read whole)", "abcdef\n", /line feed \(U\+000A\).*ends with one/],
  ["a carriage return", "abc\rdef", /carriage return \(U\+000D\)/],
  ["a NUL", "abc\0def", /NUL \(U\+0000\)/],
  ["another C0 control", "abc\u0001def", /control character \(U\+0001\)/],
  ["an escape", "abc\u001bdef", /control character \(U\+001B\)/],
  ["DEL", "abc\u007fdef", /DEL \(U\+007F\)/],
  ["a Latin-1 letter", "abc\u00e9def", /outside printable ASCII/],
  ["a no-break space", "abc\u00a0def", /outside printable ASCII/],
  ["a euro sign", "abc\u20acdef", /outside printable ASCII/],
  ["an emoji", "abc\u{1f511}def", /outside printable ASCII/],
  ["a leading space", " abcdef", /begins or ends with whitespace/],
  ["a trailing space", "abcdef ", /begins or ends with whitespace/],
  ["a trailing tab", "abcdef\t", /begins or ends with whitespace/],
  ["nothing", "", /must not be empty/],
];

describe("validateToken", () => {
  it.each(ACCEPTED.map((t) => [JSON.stringify(t).slice(0, 40), t]))("accepts %s", (_label, token) => {
    expect(validateToken("token", token)).toBe(token);
  });

  it.each(REFUSED)("refuses a token with %s, naming the option and the reason, never the token", (_label, token, reason) => {
    const error = catchError(() => validateToken("--hint-token", token));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^--hint-token /);
    expect(error.message).toMatch(reason);
    if (token !== "") expect(error.message).not.toContain(token.trim().slice(0, 3));
  });

  it.each([undefined, 42, null, ["a"]])("refuses %s, which is not a string", (value) => {
    expect(() => validateToken("token", value)).toThrow(/^token must be a string/);
  });
});

/** What a Node server reads from the Authorization header each client sent (undefined: the client refused to send it). */
describe("validateToken matches what fetch and ws send to a Node server", () => {
  let received: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    received.push(req.headers.authorization);
    res.end();
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws, req: IncomingMessage) => {
    received.push(req.headers.authorization);
    ws.close();
  });
  let origin = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** The header value each client delivered, or "refused" when it would not send it. */
  async function deliver(token: string): Promise<{ fetch: string | undefined; ws: string | undefined }> {
    const authorization = `Bearer ${token}`;
    received = [];
    const viaFetch = await fetch(`http://${origin}/`, { headers: { authorization } }).then(
      async (r) => {
        await r.text();
        return received.pop();
      },
      () => "refused",
    );
    const viaWs = await new Promise<string | undefined>((resolve) => {
      try {
        const ws = new WebSocket(`ws://${origin}/`, { headers: { authorization } });
        ws.on("error", () => resolve("refused"));
        ws.on("close", () => resolve(received.pop()));
      } catch {
        resolve("refused");
      }
    });
    return { fetch: viaFetch, ws: viaWs };
  }

  it("every accepted token arrives unchanged through both clients", async () => {
    for (const token of ACCEPTED) expect(await deliver(token), JSON.stringify(token)).toEqual({ fetch: `Bearer ${token}`, ws: `Bearer ${token}` });
  });

  it("every refused token is refused by a client or arrives changed (or could not be told from another)", async () => {
    for (const [label, token] of REFUSED) {
      if (token === "") continue;
      const { fetch: viaFetch, ws: viaWs } = await deliver(token);
      const intact = viaFetch === `Bearer ${token}` && viaWs === `Bearer ${token}`;
      // Latin-1 letters survive between two Node peers, which read header bytes as Latin-1; a receiver
      // reading UTF-8 (most servers) sees another character, so they are refused all the same.
      const latin1 = [...token].every((c) => c.charCodeAt(0) <= 0xff) && /[\u0080-\u00ff]/.test(token);
      // A leading space arrives intact but cannot be told from the separator after "Bearer".
      const leadingSpace = token.startsWith(" ");
      expect(intact && !latin1 && !leadingSpace, label).toBe(false);
    }
  });
});

describe("every place that takes a token refuses one no header can carry, before any request", () => {
  const refusals: ReadonlyArray<readonly [where: string, attempt: (token: string) => unknown]> = [
    ["HathoraHttpSource", (token) => new HathoraHttpSource({ appId: "app-1", baseUrl: "http://127.0.0.1:59", token })],
    ["WebSocketSource", (token) => new WebSocketSource({ url: "ws://127.0.0.1:9", token })],
    ["sendReadyHint", (token) => sendReadyHint({ gatewayUrl: "ws://127.0.0.1:9", roomId: "r1", token, fetch: () => Promise.reject(new Error("must not be called")) })],
  ];
  it.each(refusals)("%s", async (_where, attempt) => {
    for (const token of ["s3cret\n", "s3cret\u00e9", "s3cret "]) {
      const error = await Promise.resolve()
        .then(() => attempt(token))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error, JSON.stringify(token)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^token (contains|begins)/);
      expect((error as Error).message).not.toContain("s3cret");
    }
  });
});

describe("TokenCheck compares the whole credential after the scheme", () => {
  const cases: ReadonlyArray<readonly [token: string, header: string | undefined, matches: boolean]> = [
    ["s3cret", "Bearer s3cret", true],
    ["s3cret", "bearer s3cret", true],
    ["s3cret", "BEARER s3cret", true],
    ["s3cret", "Bearer   s3cret", true],
    ["s3cret", "Bearer s3cret  ", true],
    ["a b", "Bearer a b", true],
    ["a b", "bEaReR a b", true],
    ["tab\tinside", "Bearer tab\tinside", true],
    ["a b", "Bearer a", false],
    ["a b", "Bearer a  b", false],
    ["a b", "Bearer a b c", false],
    ["a", "Bearer a b", false],
    ["s3cret", "Basic s3cret", false],
    ["s3cret", "Bearers3cret", false],
    ["s3cret", "Bearer", false],
    ["s3cret", "Bearer ", false],
    ["s3cret", "s3cret", false],
    ["s3cret", "", false],
    ["s3cret", undefined, false],
    ["s3cret", "Bearer\ts3cret", false],
  ];
  it.each(cases)("token %j, header %j: %s", (token, header, matches) => {
    expect(new TokenCheck(token).matchesHeader(header)).toBe(matches);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}
