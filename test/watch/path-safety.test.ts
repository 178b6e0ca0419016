/**
 * No room id or app id can reach another endpoint or host: random ids built from the pieces that
 * break paths ("../", "%2e%2e", "?", "#", "/", "\", "@", control characters, unicode, very long) go
 * through the HTTP and SDK sources against a recording loopback server. Each is either refused with a
 * ConfigError before any request, or requested at exactly /rooms/{v}/{appId}/connectioninfo/{roomId}
 * on the configured host. Base URLs that are not plain http(s) are clear ConfigErrors.
 */
import { HathoraCloud } from "@hathora/cloud-sdk-typescript";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { HathoraSdkSource } from "../../src/sdk.js";
import { HathoraHttpSource } from "../../src/providers/hathora/http-source.js";
import { validateBaseUrl } from "../../src/core/validate.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";
import { json, scriptedServer } from "../helpers/http-server.js";

/** The documented shape of room and app ids. */
const ID_PATTERN = /^[a-zA-Z0-9_-]{1,100}$/;

const TRICKY_PIECES = [
  "..", "../", "..\\", "/", "\\", "%2e%2e", "%2E%2E%2F", "..%2f", "%252e%252e", "%2f", "?", "?x=1", "#", "#frag", "&", ";", "@", ":",
  "//evil.example", "http://evil.example/", "%00", "\u0000", "\n", "\r\n", "\t", " ", "%20", "é", "😀", "\u202e", "\ud800", "ﾠ", "．．", "connectioninfo",
  "rooms", "v1", "-", "_", "a", "Z", "9",
];
const validId = fc.stringMatching(ID_PATTERN);
const idArb = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.oneof(fc.constantFrom(...TRICKY_PIECES), validId), { minLength: 1, maxLength: 6 }).map((parts) => parts.join("")) },
  { weight: 2, arbitrary: validId },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  // Around the 100-character limit, and far past it.
  { weight: 1, arbitrary: fc.integer({ min: 95, max: 105 }).map((n) => "a".repeat(n)) },
  { weight: 1, arbitrary: fc.string({ minLength: 1_000, maxLength: 5_000 }) },
  { weight: 1, arbitrary: fc.constant("") },
);

let server: Awaited<ReturnType<typeof scriptedServer>>;
beforeAll(async () => {
  server = await scriptedServer();
  server.handle((_req, res) => json(res, 404, { message: "not found" }));
});
afterAll(async () => {
  await server.close();
});

const refusal = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("path parameters", () => {
  it.each(["v2", "v1"] as const)("HathoraHttpSource %s: a ConfigError before any request, or exactly the documented path on the configured host", async (apiVersion) => {
    const host = new URL(server.url).host;
    const first = server.requests.length;
    await fc.assert(
      fc.asyncProperty(idArb, idArb, async (appId, roomId) => {
        const before = server.requests.length;
        let source: HathoraHttpSource | undefined;
        const appRefused = refusal(() => {
          source = new HathoraHttpSource({ appId, baseUrl: server.url, apiVersion });
        });
        // Refused exactly when the id is outside the documented shape: the property is not vacuous.
        expect(appRefused === undefined).toBe(ID_PATTERN.test(appId));
        if (appRefused !== undefined) expect(appRefused).toBeInstanceOf(ConfigError);
        if (source === undefined) {
          expect(server.requests.length).toBe(before);
          return;
        }
        const outcome = await source.poll(roomId, { signal: new AbortController().signal }).then(
          (result) => ({ ok: true as const, result }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        if (!ID_PATTERN.test(roomId)) {
          expect(outcome).toMatchObject({ ok: false, error: expect.any(ConfigError) });
          expect(server.requests.length).toBe(before);
          return;
        }
        expect(outcome).toEqual({ ok: true, result: { observation: { kind: "not_found" }, warnings: [] } });
        const requests = server.requests.slice(before);
        expect(requests).toHaveLength(1);
        const [request] = requests;
        expect(request?.url).toBe(`/rooms/${apiVersion}/${encodeURIComponent(appId)}/connectioninfo/${encodeURIComponent(roomId)}`);
        expect(request?.headers.host).toBe(host);
      }),
      { numRuns: 200 },
    );
    // Enough ids were valid for requests to go out: the property did not pass by refusing everything.
    expect(server.requests.length - first).toBeGreaterThan(10);
  });

  it("HathoraSdkSource: the same, through the official SDK", async () => {
    const client = new HathoraCloud({ serverURL: server.url });
    await fc.assert(
      fc.asyncProperty(idArb, idArb, async (appId, roomId) => {
        const before = server.requests.length;
        let source: HathoraSdkSource | undefined;
        const appRefused = refusal(() => {
          source = new HathoraSdkSource({ client, appId });
        });
        expect(appRefused === undefined).toBe(ID_PATTERN.test(appId));
        if (source === undefined) {
          expect(appRefused).toBeInstanceOf(ConfigError);
          return;
        }
        const error = await source.poll(roomId, { signal: new AbortController().signal }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        if (!ID_PATTERN.test(roomId)) {
          expect(error).toBeInstanceOf(ConfigError);
          expect(server.requests.length).toBe(before);
          return;
        }
        expect(error).toBeUndefined();
        expect(server.requests.slice(before).map((r) => r.url)).toEqual([`/rooms/v2/${appId}/connectioninfo/${roomId}`]);
      }),
      { numRuns: 100 },
    );
  });

  it("a base URL's own path is a prefix the ids cannot climb out of", async () => {
    const source = new HathoraHttpSource({ appId: "app-1", baseUrl: `${server.url}/tenant/a/` });
    const before = server.requests.length;
    await source.poll("room-1", { signal: new AbortController().signal });
    expect(server.requests.slice(before).map((r) => r.url)).toEqual(["/tenant/a/rooms/v2/app-1/connectioninfo/room-1"]);
    await expect(source.poll("../../b/rooms", { signal: new AbortController().signal })).rejects.toBeInstanceOf(ConfigError);
    expect(server.requests.length).toBe(before + 1);
  });

  it("RoomWatcher and waitForActive refuse a bad room id up front, with no request, with or without the fleet's default source", async () => {
    const fleet = new Fleet({ appId: "app-1", baseUrl: server.url });
    const before = server.requests.length;
    for (const roomId of ["../info/x", "a/b", "a?b", "a#b", "%2e%2e", "", "x".repeat(101)]) {
      expect(() => new RoomWatcher({ roomId, appId: "app-1", baseUrl: server.url, fleet })).toThrow(ConfigError);
      await expect(waitForActive({ roomId, appId: "app-1", baseUrl: server.url, fleet })).rejects.toBeInstanceOf(ConfigError);
      expect(() => new RoomWatcher({ roomId, fleet })).toThrow(ConfigError);
      await expect(waitForActive({ roomId, fleet })).rejects.toBeInstanceOf(ConfigError);
    }
    for (const appId of ["../x", "a/b", "a?b", ""]) {
      expect(() => new RoomWatcher({ roomId: "room-1", appId, baseUrl: server.url, fleet })).toThrow(ConfigError);
    }
    await fleet.close();
    expect(server.requests.length).toBe(before);
    expect(fleet.timers.size).toBe(0);
  });
});

describe("base URLs", () => {
  it.each([
    ["ftp:", "ftp://files.example/"],
    ["file:", "file:///etc/passwd"],
    ["javascript:", "javascript:alert(1)"],
    ["data:", "data:text/plain,hello"],
    ["ws:", "ws://gateway.example"],
    ["mailto:", "mailto:ops@example.com"],
    ["credentials", "https://user:secret@api.example"],
    ["a user name", "https://user@api.example"],
    ["credentials, ftp", "ftp://user:secret@files.example"],
    ["a query", "https://api.example/?appId=x"],
    ["a fragment", "https://api.example/#x"],
    ["not a URL", "not a url"],
    ["a relative path", "/rooms"],
    ["a scheme-relative URL", "//api.example"],
    ["nothing", ""],
    ["no host", "http://"],
  ])("refuses %s with a clear ConfigError", (_name, baseUrl) => {
    const error = refusal(() => new HathoraHttpSource({ appId: "app-1", baseUrl }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/base URL/);
    expect((error as ConfigError).message).not.toContain("secret");
  });

  it.each([
    ["https://api.hathora.dev", "https://api.hathora.dev"],
    ["https://api.hathora.dev/", "https://api.hathora.dev"],
    ["HTTP://API.EXAMPLE:8080/Prefix/", "http://api.example:8080/Prefix"],
    ["http://[::1]:4000", "http://[::1]:4000"],
  ])("accepts %s as %s", (baseUrl, expected) => {
    expect(new HathoraHttpSource({ appId: "app-1", baseUrl }).baseUrl).toBe(expected);
  });

  it("any string is either refused or an http(s) origin with no credentials, query or fragment", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.webUrl({ withQueryParameters: true, withFragments: true }),
          fc.webUrl().map((url) => url.replace("://", "://user:pw@")),
          fc.tuple(fc.constantFrom("ftp", "file", "javascript", "data", "ws", "gopher", "blob", "about"), fc.webUrl()).map(([scheme, url]) => url.replace(/^https?/, scheme)),
          fc.string({ maxLength: 60 }),
        ),
        (baseUrl) => {
          let normalized: string;
          try {
            normalized = validateBaseUrl(baseUrl);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            return;
          }
          const url = new URL(normalized);
          expect(["http:", "https:"]).toContain(url.protocol);
          expect([url.username, url.password, url.search, url.hash]).toEqual(["", "", "", ""]);
          expect(normalized.endsWith("/")).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
