/**
 * The kubeconfig transport against a real loopback HTTP server (insecure-skip-tls-verify, as
 * @kubernetes/client-node requires for http://): list, a watch read line by line, typed errors, and no
 * credential in any error, whatever the server echoes.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { AccessDeniedError, ConfigError, HttpError, RateLimitedError } from "../../../src/core/errors.js";
import { kubeTransport } from "../../../src/providers/agones/kube-transport.js";
import { json, scriptedServer } from "../../helpers/http-server.js";

const TOKEN = "sekrit-bearer-token-4f9a2c";
const dir = mkdtempSync(join(tmpdir(), "rw-agones-"));

function kubeconfig(server: string, extra = ""): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: test
clusters:
- name: fake
  cluster: { server: "${server}", insecure-skip-tls-verify: true }
users:
- name: me
  user: { token: "${TOKEN}" }
contexts:
- name: test
  context: { cluster: fake, user: me, namespace: games }
${extra}`,
  );
  return file;
}

/** Everything an error could show: message, stack, cause chain, own properties. */
function everything(error: unknown): string {
  return `${String(error)} ${inspect(error, { depth: 10, showHidden: true })} ${JSON.stringify(error)}`;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("did not fail");
}

let server: Awaited<ReturnType<typeof scriptedServer>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("kubeTransport", () => {
  it("lists and watches over HTTP with the kubeconfig's token; the watch is read line by line, split anywhere", async () => {
    server = await scriptedServer();
    server.handle((req, res) => {
      if (req.url?.includes("watch=1") === true) {
        res.writeHead(200, { "content-type": "application/json" });
        const lines = `${JSON.stringify({ type: "ADDED", object: { metadata: { name: "a", resourceVersion: "2" } } })}\n${JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "3" } } })}\n`;
        res.write(lines.slice(0, 17));
        res.end(lines.slice(17));
        return;
      }
      json(res, 200, { kind: "GameServerList", metadata: { resourceVersion: "1" }, items: [] });
    });
    const transport = await kubeTransport({ kubeconfig: kubeconfig(server.url) });
    expect(transport.contextNamespace).toBe("games");
    expect(transport.server).toBe(server.url);
    const body = await transport.list("games", new AbortController().signal);
    expect(body).toEqual({ kind: "GameServerList", metadata: { resourceVersion: "1" }, items: [] });
    const events: unknown[] = [];
    for await (const event of transport.watch("games", "1", 321, new AbortController().signal)) events.push(event);
    expect(events.map((e) => (e as { type: string }).type)).toEqual(["ADDED", "BOOKMARK"]);
    expect(server.requests.map((r) => r.url)).toEqual([
      "/apis/agones.dev/v1/namespaces/games/gameservers",
      "/apis/agones.dev/v1/namespaces/games/gameservers?watch=1&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=321",
    ]);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it.each([
    [403, "list", AccessDeniedError, /lack the "list" right \(list gameservers.agones.dev in namespace "games"\)/],
    [401, "list", AccessDeniedError, /credentials were not accepted/],
    [410, "watch", HttpError, /HTTP 410/],
    [429, "list", RateLimitedError, /retry after 3000 ms/],
    [503, "list", HttpError, /HTTP 503/],
  ] as const)("HTTP %i on %s → %s, and the token the server echoes never shows", async (status, verb, type, message) => {
    server = await scriptedServer();
    server.handle((req, res) =>
      json(res, status, { kind: "Status", code: status, message: `echo: ${req.headers.authorization ?? ""}`, reason: "Whatever" }, status === 429 ? { "retry-after": "3" } : {}),
    );
    const transport = await kubeTransport({ kubeconfig: kubeconfig(server.url) });
    const error =
      verb === "list"
        ? await failure(transport.list("games", new AbortController().signal))
        : await failure((async () => {
            for await (const _ of transport.watch("games", "5", 300, new AbortController().signal)) void _;
          })());
    expect(error).toBeInstanceOf(type);
    expect(String(error)).toMatch(message);
    expect(everything(error)).not.toContain(TOKEN);
    expect(everything(error)).toContain("[redacted]");
  });

  it("an unreachable API server is a NetworkError with a hint", async () => {
    const transport = await kubeTransport({ kubeconfig: kubeconfig("http://127.0.0.1:1") });
    const error = await failure(transport.list("games", new AbortController().signal));
    expect((error as { code?: string }).code).toBe("RW_NETWORK");
    expect(everything(error)).not.toContain(TOKEN);
  });

  it.each([
    ["a file that does not parse (with a token in it)", () => {
      const file = join(dir, "broken");
      writeFileSync(file, `users:\n- name: me\n  user: { token: "${TOKEN}" \n  : : [\n`);
      return { kubeconfig: file };
    }, /does not parse as YAML at line/],
    ["a missing file", () => ({ kubeconfig: join(dir, "nope") }), /could not be read: no such file/],
    ["a missing context", () => ({ kubeconfig: kubeconfig("http://127.0.0.1:1"), context: "prod" }), /has no context "prod" \(its contexts: test\)/],
    ["http:// without insecure-skip-tls-verify", () => {
      const file = join(dir, "plain-http");
      writeFileSync(file, `current-context: t\nclusters:\n- name: c\n  cluster: { server: "http://127.0.0.1:1" }\nusers:\n- name: u\n  user: { token: "${TOKEN}" }\ncontexts:\n- name: t\n  context: { cluster: c, user: u }\n`);
      return { kubeconfig: file };
    }, /credentials or TLS settings could not be applied/],
  ])("%s is a ConfigError with no credential in it", async (_, options, message) => {
    const error = await failure(kubeTransport(options()));
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toMatch(message);
    expect(everything(error)).not.toContain(TOKEN);
  });
});
