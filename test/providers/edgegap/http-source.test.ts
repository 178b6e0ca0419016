import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, HttpError, InvalidPayloadError, NetworkError, RateLimitedError, UnknownPortError } from "../../../src/core/errors.js";
import { EdgegapHttpSource, type EdgegapSourceOptions } from "../../../src/providers/edgegap/http-source.js";
import { freeStablePort } from "../../helpers/free-port.js";
import { json, scriptedServer } from "../../helpers/http-server.js";
import { failure } from "../../helpers/waiting.js";

let server: Awaited<ReturnType<typeof scriptedServer>>;
beforeAll(async () => {
  server = await scriptedServer();
});
afterAll(async () => {
  await server.close();
});

const TOKEN = "edgegap-org-token-DO_NOT_LEAK-7f3a";
const ready = {
  request_id: "c0653765de3b",
  fqdn: "c0653765de3b.pr.edgegap.net",
  public_ip: "192.53.120.48",
  current_status: "Status.READY",
  running: true,
  error: false,
  error_detail: null,
  ports: { gameport: { external: 31669, internal: 7777, protocol: "UDP", name: "gameport", tls_upgrade: false, link: "x:31669" } },
};
const source = (options: Partial<EdgegapSourceOptions> = {}) => new EdgegapHttpSource({ token: TOKEN, portName: "gameport", baseUrl: server.url, ...options });
const poll = (s: EdgegapHttpSource, id = "c0653765de3b") => s.poll(id, { signal: new AbortController().signal });

describe("EdgegapHttpSource", () => {
  it("GETs /v1/status/{request_id} with Authorization: token <key>", async () => {
    server.handle((_req, res) => json(res, 200, ready));
    const result = await poll(source({ baseUrl: `${server.url}/prefix/` }));
    expect(result.observation).toEqual({
      kind: "active",
      connection: { exposedPort: { host: "c0653765de3b.pr.edgegap.net", port: 31669, transportType: "udp", name: "gameport" }, additionalExposedPorts: [] },
    });
    expect(server.requests.at(-1)?.url).toBe("/prefix/v1/status/c0653765de3b");
    expect(server.requests.at(-1)?.headers.authorization).toBe(`token ${TOKEN}`);
  });

  it("takes a token pasted with its 'token ' scheme and sends the scheme once", async () => {
    server.handle((_req, res) => json(res, 200, ready));
    await poll(source({ token: `token ${TOKEN}` }));
    expect(server.requests.at(-1)?.headers.authorization).toBe(`token ${TOKEN}`);
  });

  it.each([404, 400])("an unknown request id answered %i is not_found (the spec says 404, Edgegap's guide says 400)", async (status) => {
    server.handle((_req, res) => json(res, status, { message: "Deployment not found" }));
    expect(await poll(source())).toEqual({ observation: { kind: "not_found" }, warnings: [], hint: undefined });
  });

  it("a 404 that is not the API's JSON error is still not_found, with a hint about the base URL", async () => {
    server.handle((_req, res) => res.writeHead(404, { "content-type": "text/html" }).end("<html>nginx</html>"));
    expect((await poll(source())).hint).toBe("an HTML page answered, not the Edgegap API: is the base URL right?");
  });

  it.each([401, 403])("%i is a terminal HttpError whose hint names the token", async (status) => {
    server.handle((_req, res) => json(res, status, { message: "Unauthorized - Missing Token" }));
    const error = await failure(poll(source()));
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status, retryable: false, hint: "is the token right? Edgegap wants the organisation's API token" });
  });

  it.each([500, 502, 503])("%i is a transient HttpError", async (status) => {
    server.handle((_req, res) => json(res, status, { message: "oops", details: {} }));
    expect(await failure(poll(source()))).toMatchObject({ status, retryable: true, code: "RW_HTTP" });
  });

  it("429 without Retry-After (Edgegap documents none) is a RateLimitedError with no delay of its own", async () => {
    server.handle((_req, res) => json(res, 429, { message: "Too Many Requests" }));
    const error = await failure(poll(source()));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: undefined, retryable: true });
  });

  it("429 with Retry-After carries it", async () => {
    server.handle((_req, res) => json(res, 429, { message: "Too Many Requests" }, { "retry-after": "3" }));
    expect(await failure(poll(source()))).toMatchObject({ retryAfterMs: 3_000 });
  });

  it("a body that breaks the shape is an InvalidPayloadError; an HTML 200 one with a hint", async () => {
    server.handle((_req, res) => json(res, 200, { request_id: "c0653765de3b" }));
    expect(await failure(poll(source()))).toBeInstanceOf(InvalidPayloadError);
    server.handle((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html></html>"));
    expect(await failure(poll(source()))).toMatchObject({ code: "RW_INVALID_PAYLOAD", hint: "an HTML page answered, not the Edgegap API: is the base URL right?" });
  });

  it("a port name the deployment lacks is an UnknownPortError", async () => {
    server.handle((_req, res) => json(res, 200, ready));
    expect(await failure(poll(source({ portName: "game" })))).toBeInstanceOf(UnknownPortError);
  });

  it("refuses a bad request id in checkRoomId and poll, before any request", async () => {
    const s = source();
    const before = server.requests.length;
    expect(() => s.checkRoomId("../v2/deployments")).toThrow(ConfigError);
    expect(() => s.checkRoomId("")).toThrow(/invalid request id/);
    expect(await failure(poll(s, "a/b"))).toBeInstanceOf(ConfigError);
    expect(server.requests.length).toBe(before);
  });

  it.each([
    ["no token", { token: "" }, /token is required/],
    ["a token with a line feed", { token: `${TOKEN}\n` }, /line feed/],
    ["no port name", { portName: "" }, /portName is required/],
    ["an unknown host field", { hostField: "ip" as "fqdn" }, /hostField must be "fqdn" or "public_ip"/],
    ["a base URL with credentials", { baseUrl: "https://u:p@api.edgegap.com" }, /credentials/],
  ])("refuses %s at construction with a ConfigError", (_name, options, message) => {
    expect(() => source(options)).toThrow(ConfigError);
    expect(() => source(options)).toThrow(message);
  });

  it("unreachable: a NetworkError with a hint", async () => {
    const s = source({ baseUrl: `http://127.0.0.1:${await freeStablePort()}` });
    const error = await failure(poll(s));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).hint).toMatch(/nothing accepts connections/);
  });
});

describe("its request budget", () => {
  it("is the organisation's status limit: 16/s by default, one key for every source on the same API and token, whatever it reads", () => {
    const s = source();
    expect(s.budget.maxRequestsPerSecond).toBe(16);
    expect(source({ portName: "admin", hostField: "public_ip", fetch: (input, init) => fetch(input, init) }).budget.key).toBe(s.budget.key);
    expect(source({ token: "another-token-of-another-org" }).budget.key).not.toBe(s.budget.key);
    expect(source({ baseUrl: `${server.url}/staging` }).budget.key).not.toBe(s.budget.key);
    expect(s.budget.key).not.toContain(TOKEN);
  });

  it.each([
    { maxRequestsPerSecond: 8, ok: true },
    { maxRequestsPerSecond: 19.5, ok: true },
    { maxRequestsPerSecond: 0, ok: false },
    { maxRequestsPerSecond: -1, ok: false },
    { maxRequestsPerSecond: Number.NaN, ok: false },
  ])("maxRequestsPerSecond $maxRequestsPerSecond overrides it, or is a ConfigError", ({ maxRequestsPerSecond, ok }) => {
    if (ok) expect(source({ maxRequestsPerSecond }).budget.maxRequestsPerSecond).toBe(maxRequestsPerSecond);
    else expect(() => source({ maxRequestsPerSecond })).toThrow(/maxRequestsPerSecond must be positive/);
  });
});

describe("the token never leaks", () => {
  it("is not in the key or the target, and two tokens never share a key", () => {
    const s = source();
    expect(s.key).not.toContain(TOKEN);
    expect(JSON.stringify(s.target("c0653765de3b"))).not.toContain(TOKEN);
    expect(source({ token: "another-token-of-another-org" }).key).not.toBe(s.key);
    expect(source().key).toBe(s.key);
  });

  it.each([
    ["a 401 that echoes the header", 401],
    ["a 500 that echoes the header", 500],
    ["a 429 that echoes the header", 429],
    ["a 200 that echoes it in error_detail", 200],
  ])("is redacted from %s before anything reads it", async (_name, status) => {
    server.handle((req, res) => {
      const echoed = String(req.headers.authorization);
      if (status === 200) json(res, 200, { ...ready, current_status: "Status.ERROR", error: true, error_detail: `bad ${echoed}` });
      else json(res, status, { message: `refused ${echoed}` });
    });
    const s = source();
    const outcome = status === 200 ? await poll(s) : await failure(poll(s));
    const text = outcome instanceof Error ? `${outcome.message} ${JSON.stringify(outcome)}` : JSON.stringify(outcome);
    expect(text).not.toContain(TOKEN);
    expect(text).toContain("[redacted]");
  });

  it("is not in a construction error's message", () => {
    expect(() => source({ token: `${TOKEN}\u0000` })).toThrow(ConfigError);
    try {
      source({ token: `${TOKEN}\u0000` });
    } catch (error) {
      expect((error as Error).message).not.toContain(TOKEN);
    }
  });
});
