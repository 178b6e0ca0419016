/**
 * `room-watcher` is isomorphic: nothing Node-only is reachable from it. Two proofs. The entry bundles for
 * the browser platform with esbuild, which fails on any Node built-in, and the bundle holds none of pino,
 * prom-client, ioredis or ws (ws only as the dynamic import a runtime without a global WebSocket makes).
 * And a child Node process that imports the built package by its name loads none of them, as an ESM
 * resolve hook and the CommonJS module cache both see; the same probe on room-watcher/gateway does see
 * them, so the probe is not blind. Reads the build (npm test builds first).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { browserBundle } from "../helpers/browser-bundle.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
// @kubernetes/client-node: only room-watcher/agones may load it (issue 14).
const NODE_ONLY = ["pino", "prom-client", "ioredis", "ws", "@kubernetes/client-node"];
const NODE_ONLY_PATH = new RegExp(`node_modules/(${NODE_ONLY.join("|")})/`);

describe("the core entry is isomorphic", () => {
  it("bundles for the browser with no Node built-in and none of pino, prom-client, ioredis, ws", async () => {
    // ws stays out only as the lazily imported fallback; the checks below hold it to that.
    const result = await browserBundle("src/index.ts", ["ws"]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(["src/index.ts", "src/watch/with-fallback.ts", "src/sources/websocket-source.ts"]));
    expect(inputs.filter((input) => NODE_ONLY_PATH.test(input) || input.startsWith("node:"))).toEqual([]);
    const externals = Object.entries(result.metafile.inputs).flatMap(([file, input]) =>
      input.imports.filter((i) => i.external === true).map((i) => ({ file, path: i.path, kind: i.kind })),
    );
    expect(externals).toEqual([{ file: "src/sources/gateway-socket.ts", path: "ws", kind: "dynamic-import" }]);
    const bundle = result.outputFiles[0]?.text ?? "";
    expect(bundle).toMatch(/import\(\s*["']ws["']\s*\)/);
    expect(bundle).not.toMatch(/\bfrom\s*["']ws["']|\bimport\s*["']ws["']|require\(\s*["']ws["']\s*\)/);
  });

  it("room-watcher/edgegap bundles for the browser with no Node built-in and nothing external", async () => {
    const result = await browserBundle("src/edgegap.ts");
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(["src/edgegap.ts", "src/providers/edgegap/http-source.ts", "src/core/http-get.ts"]));
    expect(inputs.filter((input) => NODE_ONLY_PATH.test(input) || input.startsWith("node:"))).toEqual([]);
  });

  /** What a fresh Node process loads to import `specifier`, seen by an ESM resolve hook and the CommonJS cache. */
  function loadedBy(specifier: string): { resolved: string[]; commonJs: string[]; names: number } {
    const hooks = `
      let port;
      export function initialize(data) { port = data.port; }
      export async function resolve(specifier, context, next) {
        const result = await next(specifier, context);
        port.postMessage(result.url);
        return result;
      }`;
    const probe = `
      import { createRequire, register } from "node:module";
      import { MessageChannel } from "node:worker_threads";
      const { port1, port2 } = new MessageChannel();
      const resolved = [];
      const SENTINEL = "room-watcher/package.json";
      // Messages on one port arrive in order: once the sentinel's resolution is in, so is everything before it.
      const drained = new Promise((done) => port1.on("message", (url) => (url.endsWith("/package.json") ? done() : resolved.push(url))));
      register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hooks)}), { data: { port: port2 }, transferList: [port2] });
      const entry = await import(${JSON.stringify(specifier)});
      import.meta.resolve(SENTINEL);
      await drained;
      port1.close();
      const commonJs = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ resolved, commonJs, names: Object.keys(entry).length }));`;
    // The package imports itself by name from its own folder (package self-reference through "exports").
    const out = execFileSync(process.execPath, ["--input-type=module", "--no-warnings", "--eval", probe], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
    return JSON.parse(out) as { resolved: string[]; commonJs: string[]; names: number };
  }

  it('import("room-watcher") in a fresh Node process loads none of pino, prom-client, ioredis, ws, and no Node built-in', () => {
    const core = loadedBy("room-watcher");
    expect(core.resolved.some((url) => url.endsWith("/dist/index.js"))).toBe(true);
    expect(core.resolved.some((url) => url.endsWith("/dist/sources/websocket-source.js"))).toBe(true);
    expect([...core.resolved, ...core.commonJs].filter((path) => NODE_ONLY_PATH.test(path))).toEqual([]);
    expect(core.resolved.filter((url) => url.startsWith("node:"))).toEqual([]);
    expect(core.names).toBeLessThanOrEqual(40);

    // The probe sees these packages where they are loaded: the Node-only entry loads them (ioredis only in shared mode).
    const gateway = loadedBy("room-watcher/gateway");
    const seen = new Set([...gateway.resolved, ...gateway.commonJs].map((path) => NODE_ONLY_PATH.exec(path)?.[1]).filter((name) => name !== undefined));
    expect([...seen]).toEqual(expect.arrayContaining(["pino", "prom-client", "ws"]));
  });
});
