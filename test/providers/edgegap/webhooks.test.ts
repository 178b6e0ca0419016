import { describe, expect, it } from "vitest";
import { ConfigError, WebhookError } from "../../../src/core/errors.js";
import {
  edgegapWebhooks,
  edgegapWebhookUrl,
  matchWebhookPath,
  parseWebhookBody,
  readWebhook,
  secretsEqual,
} from "../../../src/providers/edgegap/webhooks.js";

const SECRET = "s3cret_webhook-KEY_0123456789";

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("webhook URLs", () => {
  it("builds the three webhook_on_* fields of a create call, all under the secret path", () => {
    expect(edgegapWebhooks("https://gw.example.com/base/", SECRET)).toEqual({
      webhook_on_ready: { url: `https://gw.example.com/base/webhooks/edgegap/${SECRET}/ready` },
      webhook_on_error: { url: `https://gw.example.com/base/webhooks/edgegap/${SECRET}/error` },
      webhook_on_terminated: { url: `https://gw.example.com/base/webhooks/edgegap/${SECRET}/terminated` },
    });
  });

  it("turns a gateway's ws:// or wss:// URL into the http(s) URL Edgegap POSTs to", () => {
    expect(edgegapWebhookUrl("wss://gw.example.com", SECRET, "ready")).toBe(`https://gw.example.com/webhooks/edgegap/${SECRET}/ready`);
    expect(edgegapWebhookUrl("ws://127.0.0.1:8080", SECRET, "error")).toBe(`http://127.0.0.1:8080/webhooks/edgegap/${SECRET}/error`);
  });

  it.each([
    ["too short", "short"],
    ["a slash", "aaaaaaaaaaaaaaaa/bbbb"],
    ["a space", "aaaaaaaa bbbbbbbbbbbb"],
  ])("refuses a secret with %s, without repeating it", (_name, secret) => {
    const error = thrown(() => edgegapWebhookUrl("https://gw.example.com", secret, "ready"));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain(secret);
  });

  it("refuses a gateway URL that is not http(s) or ws(s), or that carries credentials", () => {
    expect(() => edgegapWebhookUrl("ftp://gw.example.com", SECRET, "ready")).toThrow(ConfigError);
    expect(() => edgegapWebhookUrl("https://user:pw@gw.example.com", SECRET, "ready")).toThrow(ConfigError);
  });
});

describe("webhook calls", () => {
  const body = JSON.stringify({ request_id: "c0653765de3b", current_status: "Status.READY", running: true });

  it.each(["ready", "error", "terminated"] as const)("reads a %s call: the event from its path, the request id from its body", (event) => {
    expect(readWebhook({ path: `/webhooks/edgegap/${SECRET}/${event}`, body, secret: SECRET })).toEqual({ requestId: "c0653765de3b", event });
  });

  it("ignores a query string and honours another prefix", () => {
    expect(readWebhook({ path: `/hooks/${SECRET}/ready?x=1`, body, secret: SECRET, prefix: "/hooks/" })).toEqual({ requestId: "c0653765de3b", event: "ready" });
  });

  it.each([
    ["a wrong secret", `/webhooks/edgegap/${SECRET.slice(0, -1)}X/ready`, "bad_secret"],
    ["a secret one character short", `/webhooks/edgegap/${SECRET.slice(0, -1)}/ready`, "bad_secret"],
    ["an empty secret", "/webhooks/edgegap//ready", "bad_secret"],
    ["an unknown event", `/webhooks/edgegap/${SECRET}/started`, "bad_path"],
    ["an extra segment", `/webhooks/edgegap/${SECRET}/ready/x`, "bad_path"],
    ["another path", "/rooms/abc", "bad_path"],
  ])("refuses %s before reading the body, never repeating what was presented", (_name, path, reason) => {
    const error = thrown(() => readWebhook({ path, body: "not json", secret: SECRET }));
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code: "RW_WEBHOOK", reason, retryable: false });
    expect((error as Error).message).not.toContain(SECRET.slice(0, 10));
  });

  it.each([
    ["not JSON", "<html>", "webhook body is not JSON"],
    ["JSON without request_id", JSON.stringify({ current_status: "Status.READY" }), "webhook body has no request_id"],
    ["a request_id that is a number", JSON.stringify({ request_id: 12 }), "webhook body has no request_id"],
    ["an array", "[]", "webhook body has no request_id"],
    ["a request_id with a slash", JSON.stringify({ request_id: "../admin" }), 'webhook body\'s request_id "../admin" is not an Edgegap request id'],
  ])("refuses a body that is %s as bad_body", (_name, text, message) => {
    const error = thrown(() => parseWebhookBody(text));
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ reason: "bad_body", message });
  });

  it("matchWebhookPath returns the event alone", () => {
    expect(matchWebhookPath(`/webhooks/edgegap/${SECRET}/terminated`, SECRET)).toBe("terminated");
  });
});

describe("secretsEqual", () => {
  it.each([
    ["abc", "abc", true],
    ["abc", "abd", false],
    ["ab", "abc", false],
    ["abcd", "abc", false],
    ["", "", true],
    ["", "a", false],
    ["abc\u0000", "abc", false],
  ])("%j vs %j: %s", (a, b, equal) => {
    expect(secretsEqual(a, b)).toBe(equal);
  });
});
