/**
 * The package's public types do not expose `ws`: no declaration file a consumer can reach from the
 * package's entries (dist/index.d.ts, dist/gateway/index.d.ts, dist/simulator/index.d.ts, dist/sdk.d.ts, dist/edgegap.d.ts) imports it, so the WebSocket source and the
 * gateway can change socket libraries without breaking anyone's types. Reads the build (npm test
 * builds first).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));
const ENTRIES = ["index.d.ts", "gateway/index.d.ts", "simulator/index.d.ts", "sdk.d.ts", "edgegap.d.ts"];
/** `from "x"`, `import("x")` and `import "x"` in a declaration file. */
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;

/** Every declaration file reachable from the entries, with the bare packages each one imports. */
function reachableDeclarations(): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = ENTRIES.map((entry) => resolve(DIST, entry));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    const packages: string[] = [];
    seen.set(file, packages);
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
      if (specifier === undefined) continue;
      if (!specifier.startsWith(".")) {
        packages.push(specifier);
        continue;
      }
      const target = resolve(dirname(file), specifier.replace(/\.js$/, ".d.ts"));
      if (!existsSync(target)) throw new Error(`${relative(DIST, file)} imports ${specifier}, which is not in dist`);
      queue.push(target);
    }
  }
  return seen;
}

describe("public types", () => {
  it("no declaration reachable from the package's entries imports ws", () => {
    const reachable = reachableDeclarations();
    const names = [...reachable.keys()].map((file) => relative(DIST, file));
    // The walk does reach the WebSocket source and the gateway: the check below is not vacuous.
    expect(names).toEqual(expect.arrayContaining(["sources/websocket-source.d.ts", "gateway/server.d.ts", "protocol/messages.d.ts"]));
    const leaking = [...reachable].filter(([, packages]) => packages.some((p) => p === "ws" || p.startsWith("ws/") || p === "@types/ws"));
    expect(leaking.map(([file]) => relative(DIST, file))).toEqual([]);
    // The one module that holds a ws socket in its signature stays internal.
    expect(readFileSync(resolve(DIST, "gateway/connection.d.ts"), "utf8")).toMatch(/from ["']ws["']/);
    expect(names).not.toContain("gateway/connection.d.ts");
  });

  it("the core entry exports at most 40 names, values and types together, with one RoomStatus and one Clock across the entries", () => {
    const namesOf = (entry: string): string[] =>
      [...readFileSync(resolve(DIST, entry), "utf8").matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap(([, list]) =>
        (list ?? "")
          .split(",")
          .map((name) => name.replace(/^\s*type\s+/, "").trim())
          .filter((name) => name !== ""),
      );
    const core = namesOf("index.d.ts");
    expect(core).toEqual(expect.arrayContaining(["waitForActive", "RoomWatcher", "Fleet", "withFallback", "HathoraHttpSource", "WebSocketSource", "transition"]));
    expect(core.length).toBeLessThanOrEqual(40);
    expect(new Set(core).size).toBe(core.length);
    const everywhere = ENTRIES.flatMap(namesOf);
    expect(everywhere.filter((name) => name === "RoomStatus")).toHaveLength(1);
    expect(everywhere.filter((name) => /^Clock$/.test(name))).toHaveLength(0);
  });
});
