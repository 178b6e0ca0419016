/**
 * Property tests of every parser at the boundary: random bytes, random strings, random JSON and
 * mutations of the reference's valid documents never crash a parser and never raise anything but a
 * typed InvalidPayloadError; valid documents always parse; unknown enum values are tolerated and
 * reported as warnings. The same holds end to end through both polling sources against a real
 * loopback server answering garbage.
 */
import { HathoraCloud } from "@hathora/cloud-sdk-typescript";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRetryAfterMs, rateLimitDelayMs } from "../../../src/core/backoff.js";
import { ErrorCode, InvalidPayloadError, RoomWatcherError } from "../../../src/core/errors.js";
import {
  encodeClientMessage,
  type ParseOutcome,
  parseClientMessage,
  parseServerMessage,
  ProtocolErrorCode,
} from "../../../src/protocol/messages.js";
import { HathoraSdkSource } from "../../../src/sdk.js";
import { HathoraHttpSource } from "../../../src/providers/hathora/http-source.js";
import { DEFAULT_POLL_OPTIONS } from "../../../src/watch/options.js";
import { apiErrorMessage, parseConnectionInfoV1, parseConnectionInfoV2, parseJson } from "../../../src/providers/hathora/parse.js";
import { scriptedServer } from "../../helpers/http-server.js";

/** Runs `parse`; anything thrown must be an InvalidPayloadError. */
function outcome<T>(parse: () => T): { ok: true; value: T } | { ok: false; error: InvalidPayloadError } {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (!(error instanceof InvalidPayloadError)) throw new Error(`threw something other than InvalidPayloadError: ${String(error)}`, { cause: error });
    expect(error.code).toBe(ErrorCode.INVALID_PAYLOAD);
    expect(error.retryable).toBe(true);
    expect(typeof error.message).toBe("string");
    return { ok: false, error };
  }
}

const GATEWAY_CODES: readonly string[] = Object.values(ProtocolErrorCode);
function checkGatewayOutcome(result: ParseOutcome<unknown>): void {
  if (!result.ok) {
    expect(GATEWAY_CODES).toContain(result.code);
    expect(typeof result.detail).toBe("string");
  }
}

// ---- Inputs ----

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnitString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 200 });
const textArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  codeUnitString,
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("utf8")),
  fc.json({ maxDepth: 4 }),
);
/** Any value, the odd kinds included: bigints, Maps, Sets, dates, typed and sparse arrays, null prototypes. */
const anyValue = fc.anything({
  maxDepth: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withTypedArray: true,
  withSparseArray: true,
});

const KNOWN_TRANSPORTS = ["tcp", "udp", "tls"];
const nonEmpty = (max = 40) => fc.string({ minLength: 1, maxLength: max });
const exposedPortArb = (transport: fc.Arbitrary<string> = fc.constantFrom(...KNOWN_TRANSPORTS)) =>
  fc.record({ transportType: transport, port: fc.integer({ min: 0, max: 65_535 }), host: nonEmpty(), name: fc.string({ maxLength: 20 }) });
/** Fields a newer backend might add: dropped, never rejected. */
const extraFields = fc.dictionary(nonEmpty(10).map((k) => `x_${k}`), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });

const v2Starting = fc.record({
  doc: fc.record({ additionalExposedPorts: fc.array(exposedPortArb(), { maxLength: 2 }), status: fc.constant("starting"), roomId: nonEmpty() }),
  extra: extraFields,
});
const v2Active = fc.record({
  doc: fc.record({
    additionalExposedPorts: fc.array(exposedPortArb(), { maxLength: 2 }),
    exposedPort: exposedPortArb(),
    status: fc.constant("active"),
    roomId: nonEmpty(),
  }),
  extra: extraFields,
});
const v1Starting = fc.record({ status: fc.constant("starting"), roomId: nonEmpty() });
const v1Active = fc.record({
  status: fc.constant("active"),
  transportType: fc.constantFrom(...KNOWN_TRANSPORTS),
  port: fc.integer({ min: 0, max: 65_535 }),
  host: nonEmpty(),
  roomId: nonEmpty(),
});

/** The reference's own examples. */
const REFERENCE_PORT = { host: "1.proxy.hathora.dev", name: "default", port: 34567, transportType: "tcp" };
const REFERENCE_V2 = { additionalExposedPorts: [], exposedPort: REFERENCE_PORT, status: "active", roomId: "2swovpy1fnunu" };
const REFERENCE_V1 = { status: "active", transportType: "tcp", port: 34567, host: "1.proxy.hathora.dev", roomId: "2swovpy1fnunu" };

type Json = Record<string, unknown>;
/** Every path to a required field of a v2 document (the exposed port's fields included, when it has one). */
function requiredPaths(doc: Json): string[][] {
  const paths = [["additionalExposedPorts"], ["status"], ["roomId"]];
  if (doc.status === "active") paths.push(["exposedPort"]);
  if (doc.exposedPort !== undefined) for (const key of Object.keys(REFERENCE_PORT)) paths.push(["exposedPort", key]);
  const additional = doc.additionalExposedPorts as unknown[];
  additional.forEach((_p, i) => {
    for (const key of Object.keys(REFERENCE_PORT)) paths.push(["additionalExposedPorts", String(i), key]);
  });
  return paths;
}

function withPath(doc: Json, path: readonly string[], change: (parent: Record<string, unknown>, key: string) => void): Json {
  const copy = structuredClone(doc);
  let parent: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  change(parent, path.at(-1) as string);
  return copy;
}

/** A JSON value of a type the field does not have (string fields get no strings, and so on). */
function wrongTypeArb(current: unknown): fc.Arbitrary<unknown> {
  const kinds: Array<fc.Arbitrary<unknown>> = [fc.constant(null), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 })];
  if (typeof current !== "string") kinds.push(fc.string({ maxLength: 10 }));
  if (typeof current !== "number") kinds.push(fc.double());
  if (typeof current !== "object" || Array.isArray(current)) kinds.push(fc.dictionary(nonEmpty(5), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }));
  if (Array.isArray(current)) return fc.oneof(fc.constant(null), fc.boolean(), fc.string({ maxLength: 10 }), fc.double());
  return fc.oneof(...kinds);
}

const NUM_RUNS = 300;

describe("parsers never crash", () => {
  it("parseJson: any text either parses or throws InvalidPayloadError", () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const result = outcome(() => parseJson(text));
        if (result.ok) expect(result.value).toEqual(JSON.parse(text));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("parseConnectionInfoV2 and V1: any value, any room id, only InvalidPayloadError", () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.jsonValue(), textArb.map((t) => outcome(() => parseJson(t))).map((r) => (r.ok ? r.value : null))), fc.option(nonEmpty(), { nil: undefined }), (body, roomId) => {
        outcome(() => parseConnectionInfoV2(body, roomId));
        outcome(() => parseConnectionInfoV1(body, roomId));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("apiErrorMessage: any text gives a string of at most 500 characters or undefined, never a throw", () => {
    fc.assert(
      fc.property(fc.oneof(textArb, fc.record({ message: fc.string({ maxLength: 2_000 }) }).map((b) => JSON.stringify(b))), (text) => {
        const message = apiErrorMessage(text);
        if (message !== undefined) {
          expect(typeof message).toBe("string");
          expect(message.length).toBeLessThanOrEqual(500);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("parseRetryAfterMs: any header value gives undefined or a non-negative number of ms, and the wait it causes is capped", () => {
    fc.assert(
      fc.property(
        fc.oneof(textArb, fc.nat().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()), fc.stringMatching(/^\d{1,400}(\.\d{0,5})?$/)),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (value, nowMs) => {
          const ms = parseRetryAfterMs(value, nowMs);
          if (ms !== undefined) {
            expect(typeof ms).toBe("number");
            expect(ms).toBeGreaterThanOrEqual(0);
            expect(Number.isNaN(ms)).toBe(false);
          }
          // 400 digits of seconds parse as Infinity; what matters is that the wait stays within the cap.
          const waitMs = rateLimitDelayMs(ms, 1, DEFAULT_POLL_OPTIONS, () => 0.5);
          expect(waitMs).toBeGreaterThanOrEqual(0);
          expect(waitMs).toBeLessThanOrEqual(DEFAULT_POLL_OPTIONS.maxRetryAfterMs);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("the gateway protocol: any client or server frame gives ok or a typed protocol error, never a throw", () => {
    fc.assert(
      fc.property(fc.oneof(textArb, anyValue.map((v) => { try { return JSON.stringify(v) ?? "null"; } catch { return "{}"; } })), (text) => {
        checkGatewayOutcome(parseClientMessage(text));
        checkGatewayOutcome(parseServerMessage(text));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("the gateway protocol: valid client messages round-trip; any other type is unknown_type", () => {
    const roomId = fc.stringMatching(/^[a-zA-Z0-9_-]{1,100}$/);
    fc.assert(
      fc.property(fc.constantFrom("subscribe", "unsubscribe"), roomId, (type, id) => {
        const message = { type, roomId: id } as const;
        expect(parseClientMessage(encodeClientMessage(message))).toEqual({ ok: true, message });
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }).filter((t) => t !== "subscribe" && t !== "unsubscribe"), roomId, (type, id) => {
        expect(parseClientMessage(JSON.stringify({ type, roomId: id }))).toMatchObject({ ok: false, code: ProtocolErrorCode.UNKNOWN_TYPE });
      }),
      { numRuns: 100 },
    );
  });
});

describe("valid documents always parse", () => {
  it("v2 starting and active, extra fields dropped, the room id checked", () => {
    fc.assert(
      fc.property(fc.oneof(v2Starting, v2Active), ({ doc, extra }) => {
        const body = { ...extra, ...doc };
        const result = parseConnectionInfoV2(JSON.parse(JSON.stringify(body)), doc.roomId);
        expect(result.warnings).toEqual([]);
        if (doc.status === "starting") expect(result.observation).toEqual({ kind: "starting" });
        else {
          const active = doc as typeof doc & { exposedPort: unknown };
          expect(result.observation).toEqual({ kind: "active", connection: { exposedPort: active.exposedPort, additionalExposedPorts: doc.additionalExposedPorts } });
        }
        // Someone else's room is a bad answer, not a status.
        expect(outcome(() => parseConnectionInfoV2(body, `${doc.roomId}x`)).ok).toBe(false);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("v1 starting and active; the port is named default", () => {
    fc.assert(
      fc.property(fc.oneof(v1Starting, v1Active), (doc) => {
        const result = parseConnectionInfoV1(JSON.parse(JSON.stringify(doc)), doc.roomId);
        expect(result.warnings).toEqual([]);
        if ("port" in doc) {
          expect(result.observation).toEqual({
            kind: "active",
            connection: { exposedPort: { host: doc.host, port: doc.port, transportType: doc.transportType, name: "default" }, additionalExposedPorts: [] },
          });
        } else expect(result.observation).toEqual({ kind: "starting" });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("unknown enum values are tolerated and reported", () => {
  const unknownStatus = nonEmpty(30).filter((s) => !["starting", "active", "destroyed", "suspended"].includes(s));
  const unknownTransport = nonEmpty(30).filter((s) => !KNOWN_TRANSPORTS.includes(s));

  it("an undocumented status is unrecognized with an UNKNOWN_STATUS warning; legacy ones end the room", () => {
    fc.assert(
      fc.property(fc.oneof(unknownStatus, fc.constantFrom("destroyed", "suspended")), v2Starting, (status, { doc }) => {
        for (const [parse, body] of [
          [parseConnectionInfoV2, { ...doc, status }],
          [parseConnectionInfoV1, { status, roomId: doc.roomId }],
        ] as const) {
          const result = parse(body, doc.roomId);
          if (status === "destroyed" || status === "suspended") {
            expect(result).toEqual({ observation: { kind: "ended", reason: status }, warnings: [] });
          } else {
            expect(result.observation).toEqual({ kind: "unrecognized", status });
            expect(result.warnings).toEqual([{ code: "UNKNOWN_STATUS", value: status, message: expect.any(String) }]);
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("an undocumented transport type is kept and reported once per port that has it", () => {
    fc.assert(
      fc.property(
        fc.record({
          exposedPort: exposedPortArb(fc.oneof(fc.constantFrom(...KNOWN_TRANSPORTS), unknownTransport)),
          additionalExposedPorts: fc.array(exposedPortArb(fc.oneof(fc.constantFrom(...KNOWN_TRANSPORTS), unknownTransport)), { maxLength: 2 }),
          roomId: nonEmpty(),
        }),
        (fields) => {
          const result = parseConnectionInfoV2({ ...fields, status: "active" }, fields.roomId);
          const ports = [fields.exposedPort, ...fields.additionalExposedPorts];
          expect(result.observation).toEqual({ kind: "active", connection: { exposedPort: fields.exposedPort, additionalExposedPorts: fields.additionalExposedPorts } });
          expect(result.warnings.map((w) => [w.code, w.value])).toEqual(
            ports.filter((p) => !KNOWN_TRANSPORTS.includes(p.transportType)).map((p) => ["UNKNOWN_TRANSPORT_TYPE", p.transportType]),
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("mutations of valid documents", () => {
  const validV2: fc.Arbitrary<{ doc: Json }> = fc.oneof(fc.constant({ doc: REFERENCE_V2 }), v2Active, v2Starting);

  it("dropping a required field is an InvalidPayloadError (an optional exposedPort while starting is not required)", () => {
    fc.assert(
      fc.property(
        validV2.chain(({ doc }) => fc.record({ doc: fc.constant(doc), path: fc.constantFrom(...requiredPaths(doc)) })),
        ({ doc, path }) => {
          const mutated = withPath(doc, path, (parent, key) => {
            delete parent[key];
          });
          expect(outcome(() => parseConnectionInfoV2(mutated)).ok).toBe(false);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("a field of the wrong type is an InvalidPayloadError", () => {
    fc.assert(
      fc.property(
        validV2.chain(({ doc }) =>
          fc.constantFrom(...requiredPaths(doc)).chain((path) => {
            const current = path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], doc);
            return fc.record({ doc: fc.constant(doc), path: fc.constant(path), value: wrongTypeArb(current) });
          }),
        ),
        ({ doc, path, value }) => {
          const mutated = withPath(doc, path, (parent, key) => {
            parent[key] = value;
          });
          // A status replaced by another string is an unknown status, not a wrong type: the generator never does that.
          expect(outcome(() => parseConnectionInfoV2(mutated)).ok).toBe(false);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("v1: dropping a field or changing its type is an InvalidPayloadError", () => {
    const keys = Object.keys(REFERENCE_V1);
    fc.assert(
      fc.property(
        v1Active.map((d) => d as Json),
        fc.constantFrom(...keys),
        fc.boolean(),
        fc.jsonValue({ maxDepth: 1 }),
        (doc, key, drop, replacement) => {
          const mutated: Json = { ...doc };
          if (drop || typeof replacement === typeof doc[key]) delete mutated[key];
          else mutated[key] = replacement;
          expect(outcome(() => parseConnectionInfoV1(mutated)).ok).toBe(false);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("ports out of range, non-integers, empty hosts and more than two additional ports are refused", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ port: fc.oneof(fc.integer({ min: 65_536 }), fc.integer({ max: -1 }), fc.double({ noInteger: true })) }),
          fc.record({ host: fc.constant("") }),
          fc.record({ transportType: fc.constant("") }),
        ),
        (change) => {
          expect(outcome(() => parseConnectionInfoV2({ ...REFERENCE_V2, exposedPort: { ...REFERENCE_PORT, ...change } })).ok).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
    expect(outcome(() => parseConnectionInfoV2({ ...REFERENCE_V2, additionalExposedPorts: [REFERENCE_PORT, REFERENCE_PORT, REFERENCE_PORT] })).ok).toBe(false);
  });
});

describe("the polling sources end to end, against a server answering garbage", () => {
  let server: Awaited<ReturnType<typeof scriptedServer>>;
  beforeAll(async () => {
    server = await scriptedServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const answerArb = fc.record({
    status: fc.oneof(fc.constantFrom(200, 200, 200, 404, 429, 500, 401, 403, 400), fc.integer({ min: 200, max: 599 })),
    body: fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.json({ maxDepth: 3 }).map((t) => Buffer.from(t)),
      v2Active.map(({ doc }) => Buffer.from(JSON.stringify({ ...doc, roomId: "room-1" }))),
      fc.string({ maxLength: 100 }).map((message) => Buffer.from(JSON.stringify({ message }))),
    ),
    retryAfter: fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.nat().map(String)), { nil: undefined }),
  });

  /** Polls once; the answer must be a PollResult or a RoomWatcherError. */
  async function pollOnce(poll: () => Promise<unknown>): Promise<void> {
    try {
      const result = (await poll()) as { observation: { kind: string } };
      expect(["starting", "active", "not_found", "ended", "unrecognized"]).toContain(result.observation.kind);
    } catch (error) {
      if (!(error instanceof RoomWatcherError)) throw new Error(`rejected with something other than a RoomWatcherError: ${String(error)}`, { cause: error });
    }
  }

  const serve = ({ status, body, retryAfter }: typeof answerArb extends fc.Arbitrary<infer T> ? T : never) => {
    server.handle((_req, res) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      // Header values must be legal on the wire; an illegal one is dropped, not sent.
      if (retryAfter !== undefined && /^[\t\x20-\x7e]*$/.test(retryAfter)) headers["retry-after"] = retryAfter;
      res.writeHead(status, headers).end(status === 204 || status === 304 || (status >= 100 && status < 200) ? undefined : body);
    });
  };

  it("HathoraHttpSource (v2 and v1) resolves a PollResult or rejects with a RoomWatcherError", async () => {
    const v2 = new HathoraHttpSource({ appId: "app", baseUrl: server.url, token: "tok_fuzz_0001" });
    const v1 = new HathoraHttpSource({ appId: "app", baseUrl: server.url, apiVersion: "v1" });
    await fc.assert(
      fc.asyncProperty(answerArb, async (answer) => {
        serve(answer);
        await pollOnce(() => v2.poll("room-1", { signal: new AbortController().signal }));
        await pollOnce(() => v1.poll("room-1", { signal: new AbortController().signal }));
      }),
      { numRuns: 100 },
    );
  });

  it("HathoraSdkSource resolves a PollResult or rejects with a RoomWatcherError", async () => {
    const source = new HathoraSdkSource({ client: new HathoraCloud({ serverURL: server.url, appId: "app", hathoraDevToken: "tok_fuzz_0002" }) });
    await fc.assert(
      fc.asyncProperty(answerArb, async (answer) => {
        serve(answer);
        await pollOnce(() => source.poll("room-1", { signal: new AbortController().signal }));
      }),
      { numRuns: 100 },
    );
  });
});
