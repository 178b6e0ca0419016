import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  HttpError,
  InvalidPayloadError,
  NetworkError,
  RateLimitedError,
  RequestTimeoutError,
} from "../../../src/core/errors.js";
import { HathoraHttpSource } from "../../../src/providers/hathora/http-source.js";
import { fakeClock } from "../../helpers/fake-clock.js";
import { json, scriptedServer } from "../../helpers/http-server.js";
import { failure } from "../../helpers/waiting.js";

let server: Awaited<ReturnType<typeof scriptedServer>>;
beforeAll(async () => {
  server = await scriptedServer();
});
afterAll(async () => {
  await server.close();
});

const TOKEN = "tok_secret_DO_NOT_LEAK_1234";
const port = { host: "1.proxy.hathora.dev", name: "default", port: 34567, transportType: "tcp" };
const poll = (source: HathoraHttpSource, roomId = "room-1") => source.poll(roomId, { signal: new AbortController().signal });

describe("HathoraHttpSource", () => {
  it("GETs the v2 connection-info path with percent-encoded parameters and the bearer token", async () => {
    server.handle((_req, res) => json(res, 200, { additionalExposedPorts: [], exposedPort: port, status: "active", roomId: "room_1-A" }));
    const source = new HathoraHttpSource({ appId: "app-42", baseUrl: `${server.url}/prefix/`, token: TOKEN });
    const result = await poll(source, "room_1-A");
    expect(result.observation).toEqual({ kind: "active", connection: { exposedPort: port, additionalExposedPorts: [] } });
    const request = server.requests.at(-1);
    expect(request?.url).toBe("/prefix/rooms/v2/app-42/connectioninfo/room_1-A");
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("sends no Authorization header without a token (connection info needs none)", async () => {
    server.handle((_req, res) => json(res, 200, { additionalExposedPorts: [], status: "starting", roomId: "room-1" }));
    await poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url }));
    expect(server.requests.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("uses the v1 endpoint when asked and names its port default", async () => {
    server.handle((_req, res) => json(res, 200, { status: "active", transportType: "udp", port: 7000, host: "h", roomId: "room-1" }));
    const result = await poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url, apiVersion: "v1" }));
    expect(server.requests.at(-1)?.url).toBe("/rooms/v1/app/connectioninfo/room-1");
    expect(result.observation).toMatchObject({ kind: "active", connection: { exposedPort: { name: "default", port: 7000 } } });
  });

  it("maps 404 to a not_found observation, with no hint when the body is the API's JSON error", async () => {
    server.handle((_req, res) => json(res, 404, { message: "Room not found" }));
    const result = await poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url }));
    expect(result.observation).toEqual({ kind: "not_found" });
    expect(result.hint).toBeUndefined();
  });

  it.each([
    ["an HTML page", "text/html; charset=utf-8", "<!DOCTYPE html><h1>Not Found</h1>", /^an HTML page answered, not the rooms API: is the base URL right\?$/],
    ["plain text", "text/plain", "404 page not found", /^the answer had no JSON error body as the rooms API sends: is the base URL right\?$/],
    ["an empty body", "text/plain", "", /is the base URL right\?$/],
  ])("a 404 with %s is still not_found (its body is not documented) but carries a hint about the base URL", async (_name, type, body, hint) => {
    server.handle((_req, res) => res.writeHead(404, { "content-type": type }).end(body));
    const result = await poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url }));
    expect(result.observation).toEqual({ kind: "not_found" });
    expect(result.hint).toMatch(hint);
  });

  it("an HTML 200 is an invalid payload whose hint names the base URL", async () => {
    server.handle((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Welcome to nginx!</body></html>"));
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url })));
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect(error).toMatchObject({ hint: "an HTML page answered, not the rooms API: is the base URL right?", retryable: true });
    expect((error as Error).message).toBe("response body is an HTML page, not JSON (an HTML page answered, not the rooms API: is the base URL right?)");
  });

  it("names the URL and app it looks at, with no secret in it", () => {
    const source = new HathoraHttpSource({ appId: "app-9", baseUrl: `${server.url}/prefix`, token: TOKEN });
    expect(source.target("room-1")).toEqual({ name: "the rooms API", url: `${server.url}/prefix/rooms/v2/app-9/connectioninfo/room-1`, app: "app-9" });
    expect(JSON.stringify(source.target("room-1"))).not.toContain(TOKEN);
  });

  it.each([1, 22, 6000, 10080])("refuses a base URL on port %i at once: fetch would refuse every request to it", (badPort) => {
    expect(() => new HathoraHttpSource({ appId: "app", baseUrl: `http://127.0.0.1:${badPort}` })).toThrow(ConfigError);
    expect(() => new HathoraHttpSource({ appId: "app", baseUrl: `http://127.0.0.1:${badPort}` })).toThrow(/baseUrl uses port \d+, which fetch refuses/);
    // A fetch of the caller's own may allow it.
    expect(() => new HathoraHttpSource({ appId: "app", baseUrl: `http://127.0.0.1:${badPort}`, fetch: globalThis.fetch })).not.toThrow();
  });

  it.each([
    ["3", 3000],
    [new Date(Date.now() + 60_000).toUTCString(), 60_000],
  ])("maps 429 with Retry-After %s to RateLimitedError", async (header, expectedMs) => {
    server.handle((_req, res) => json(res, 429, { message: "slow down" }, { "retry-after": header }));
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url })));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(expectedMs - 2_000);
    expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(expectedMs);
    expect(error).toMatchObject({ code: "RW_RATE_LIMITED", retryable: true });
  });

  it.each([
    [400, false],
    [401, false],
    [402, false],
    [403, false],
    [422, false],
    [408, true],
    [500, true],
    [503, true],
  ])("maps HTTP %i to HttpError (retryable: %s) with the ApiError message", async (status, retryable) => {
    server.handle((_req, res) => json(res, status, { message: `says ${status}` }));
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url })));
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: "RW_HTTP", status, retryable, apiMessage: `says ${status}` });
  });

  it("tolerates a non-JSON error body, and says an HTML page is not the rooms API", async () => {
    server.handle((_req, res) => res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>"));
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url })));
    expect(error).toMatchObject({ status: 502, apiMessage: undefined, retryable: true, hint: "an HTML page answered, not the rooms API: is the base URL right?" });
    expect((error as Error).message).toBe("HTTP 502 (an HTML page answered, not the rooms API: is the base URL right?)");
  });

  it.each([
    ["truncated JSON", '{"status":"act'],
    ["wrong types", JSON.stringify({ additionalExposedPorts: "none", status: 5, roomId: "room-1" })],
    ["empty body", ""],
  ])("maps a malformed 200 body (%s) to InvalidPayloadError", async (_name, body) => {
    server.handle((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body));
    expect(await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url })))).toBeInstanceOf(InvalidPayloadError);
  });

  it.each([
    ["declared by content-length", true],
    ["streamed without a length", false],
  ])("refuses a huge body %s", async (_name, declared) => {
    const chunk = "x".repeat(64 * 1024);
    server.handle((_req, res) => {
      res.writeHead(200, declared ? { "content-length": String(chunk.length * 40) } : {});
      for (let i = 0; i < 40; i++) res.write(chunk);
      res.end();
    });
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url })));
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as Error).message).toMatch(/exceeds the 1048576-byte limit/);
  });

  it("maps a dropped connection to NetworkError", async () => {
    server.handle((req) => req.socket.destroy());
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url })));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: "RW_NETWORK", retryable: true });
  });

  it("maps a refused connection to NetworkError", async () => {
    const closed = await scriptedServer();
    const url = closed.url;
    await closed.close();
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: url })));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/ECONNREFUSED 127\.0\.0\.1:\d+/);
    expect(error).toMatchObject({ hint: "nothing accepts connections at that host and port: is the base URL right, and the server up?" });
  });

  it("times out a request that never answers, on the injected clock", async () => {
    server.handle(() => {
      /* never answers */
    });
    const time = fakeClock();
    const source = new HathoraHttpSource({ appId: "app", baseUrl: server.url, requestTimeoutMs: 2_000, clock: time.clock });
    const pending = failure(poll(source));
    await time.tick(2_000);
    const error = await pending;
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ code: "RW_REQUEST_TIMEOUT", retryable: true });
    expect(time.timers()).toBe(0);
  });

  it("rejects with the caller's reason when aborted, and clears its timer", async () => {
    server.handle(() => {
      /* never answers */
    });
    const time = fakeClock();
    const source = new HathoraHttpSource({ appId: "app", baseUrl: server.url, clock: time.clock });
    const controller = new AbortController();
    const pending = source.poll("room-1", { signal: controller.signal });
    const reason = new Error("caller left");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(time.timers()).toBe(0);
  });

  it("never puts the token in an error", async () => {
    server.handle((_req, res) => json(res, 401, { message: "Unauthorized" }));
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url, token: TOKEN })));
    const dumped = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ""}`;
    expect(dumped).not.toContain(TOKEN);
    expect(JSON.stringify(new HathoraHttpSource({ appId: "app", baseUrl: server.url, token: TOKEN }))).not.toContain(TOKEN);
  });

  it.each([401, 429, 500])("redacts the token when the upstream echoes it in a %i body", async (status) => {
    server.handle((req, res) => json(res, status, { message: `token ${req.headers.authorization ?? "-"} rejected` }));
    const error = await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url, token: TOKEN })));
    expect((error as Error).message).toContain("token Bearer [redacted] rejected");
    expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain(TOKEN);
  });

  it.each([
    ["a room id with a slash", "../../admin"],
    ["a room id with a query", "room?x=1"],
    ["an empty room id", ""],
    ["an over-long room id", "r".repeat(101)],
  ])("refuses %s before sending anything", async (_name, roomId) => {
    const before = server.requests.length;
    expect(await failure(poll(new HathoraHttpSource({ appId: "app", baseUrl: server.url }), roomId))).toBeInstanceOf(ConfigError);
    expect(server.requests.length).toBe(before);
  });

  it.each([
    ["a non-http base URL", { appId: "app", baseUrl: "ftp://example.com" }],
    ["a file URL", { appId: "app", baseUrl: "file:///etc/passwd" }],
    ["credentials in the base URL", { appId: "app", baseUrl: "https://user:pw@example.com" }],
    ["a query in the base URL", { appId: "app", baseUrl: "https://example.com/?x=1" }],
    ["not a URL", { appId: "app", baseUrl: "not a url" }],
    ["an app id with a slash", { appId: "a/b", baseUrl: "https://example.com" }],
    ["a zero request timeout", { appId: "app", requestTimeoutMs: 0 }],
  ])("refuses %s as a ConfigError", (_name, options) => {
    expect(() => new HathoraHttpSource(options)).toThrow(ConfigError);
  });
});
