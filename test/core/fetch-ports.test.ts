/** The bad-port list is the running Node's: every port on it is refused by fetch itself, and its neighbours are not. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { assertFetchablePort, FETCH_BAD_PORTS } from "../../src/core/fetch-ports.js";

async function fetchRefusal(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    await response.body?.cancel();
    return undefined;
  } catch (error) {
    return error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
  }
}

describe("FETCH_BAD_PORTS", () => {
  it("lists exactly the ports fetch refuses as bad, among every port up to the highest listed and 200 past it", async () => {
    const highest = Math.max(...FETCH_BAD_PORTS);
    const refused: number[] = [];
    const ports = Array.from({ length: highest + 200 }, (_, i) => i + 1);
    for (let i = 0; i < ports.length; i += 500) {
      const answers = await Promise.all(ports.slice(i, i + 500).map(async (port) => [port, await fetchRefusal(port)] as const));
      for (const [port, refusal] of answers) if (refusal === "bad port") refused.push(port);
    }
    expect(refused).toEqual([...FETCH_BAD_PORTS].sort((a, b) => a - b));
  });

  it("assertFetchablePort names the option and the port; a default port (none in the URL) passes", () => {
    expect(() => assertFetchablePort("baseUrl", "http://example.test:6667/x")).toThrow(ConfigError);
    expect(() => assertFetchablePort("baseUrl", "http://example.test:6667/x")).toThrow(/^baseUrl uses port 6667, which fetch refuses/);
    expect(() => assertFetchablePort("baseUrl", "http://example.test/x")).not.toThrow();
    expect(() => assertFetchablePort("baseUrl", "http://example.test:4000/x")).not.toThrow();
  });
});
