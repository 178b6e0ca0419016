/**
 * esbuild bundles of the package's entries for the browser platform: what the isomorphic-entry test
 * inspects, and what the browser tests serve to a page (test/helpers/browser.ts).
 */
import { fileURLToPath } from "node:url";
import { build, type BuildResult } from "esbuild";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** `entry` (a path from the repository root) bundled for the browser platform: rejects (with esbuild's errors) if anything reachable imports a Node built-in. */
export function browserBundle(entry: string, external: string[] = []): Promise<BuildResult<{ write: false; metafile: true }>> {
  return build({
    absWorkingDir: ROOT,
    entryPoints: [fileURLToPath(new URL(`../../${entry}`, import.meta.url))],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
    external,
  });
}

let core: Promise<string> | undefined;

/**
 * The core entry (`room-watcher`, src/index.ts) as one ES module a page imports. `ws` stays an external
 * dynamic import, as a bundler leaves it: a browser never reaches it (it has a global WebSocket).
 */
export function coreBundle(): Promise<string> {
  core ??= browserBundle("src/index.ts", ["ws"]).then((result) => {
    const text = result.outputFiles[0]?.text;
    if (text === undefined) throw new Error("esbuild produced no output for src/index.ts");
    return text;
  });
  return core;
}
