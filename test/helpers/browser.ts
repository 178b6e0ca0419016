/**
 * Real Chromium for the browser tests: Debian's binary (bash scripts/chromium.sh install), driven by
 * playwright-core, which never downloads a browser of its own. `useChromium()` launches one per test
 * file (about 0.25 s here, so sharing one through a globalSetup would save little and cost every other
 * run a browser), opens a fresh context per page, fails the test on any console error or uncaught page
 * error, and closes everything, checking that no Chromium process is left. `serveSite()` serves pages
 * and the core bundle from loopback, on a port (so an origin) of its own.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, onTestFinished } from "vitest";
import type * as RoomWatcherCore from "../../src/index.js";
import { coreBundle } from "./browser-bundle.js";
import { chromiumPath } from "./chromium-path.js";

export { chromiumPath };

/** Launches headless Chromium from chromiumPath(); root (CI containers) cannot use its sandbox. */
export function launchChromium(executablePath = chromiumPath()): Promise<Browser> {
  const asRoot = process.getuid?.() === 0;
  return chromium.launch({ executablePath, headless: true, args: asRoot ? ["--no-sandbox"] : [] });
}

export interface OpenOptions {
  /** Console errors the test expects (a refused WebSocket logs one); any other fails the test. */
  readonly allowConsoleErrors?: readonly RegExp[] | undefined;
}

export interface ChromiumHandle {
  /** The file's browser (launched in beforeAll). */
  readonly browser: Browser;
  /** A page in a fresh context, at `url`; closed when the test ends, which then fails on any unexpected error. */
  open(url: string, options?: OpenOptions): Promise<Page>;
}

/**
 * One Chromium for the calling test file: launched before its tests, closed (and checked gone) after them.
 * Without Chromium the file fails as it is collected, naming the install command: never a silent skip.
 */
export function useChromium(): ChromiumHandle {
  const executablePath = chromiumPath();
  let browser: Browser | undefined;
  const current = (): Browser => {
    if (browser === undefined) throw new Error("useChromium(): the browser is launched in beforeAll, use it inside a test");
    return browser;
  };
  beforeAll(async () => {
    browser = await launchChromium(executablePath);
  });
  afterAll(async () => {
    await browser?.close();
    expect(chromiumChildren()).toEqual([]);
  });
  return {
    get browser() {
      return current();
    },
    async open(url, options = {}) {
      const context = await current().newContext();
      const errors: string[] = [];
      const allowed = options.allowConsoleErrors ?? [];
      onTestFinished(async () => {
        await context.close();
        expect(errors, "console errors and uncaught errors in the page").toEqual([]);
      });
      const page = await watchedPage(context, (error) => {
        if (!allowed.some((pattern) => pattern.test(error))) errors.push(error);
      });
      await page.goto(url);
      return page;
    },
  };
}

async function watchedPage(context: BrowserContext, onError: (error: string) => void): Promise<Page> {
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") onError(`console.error: ${message.text()}`);
  });
  page.on("pageerror", (error) => onError(`uncaught: ${error.stack ?? error.message}`));
  return page;
}

/** Chromium processes whose parent is this process (Linux /proc; none elsewhere). */
export function chromiumChildren(): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ")".
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(" ");
    if (Number(ppid) === process.pid && state !== "Z" && /chrom/i.test(comm)) children.push(Number(entry));
  }
  return children;
}

/** Where a page finds the core: an import map maps the bare name `room-watcher` here. */
export const CORE_BUNDLE_PATH = "/room-watcher.js";

/**
 * A page that imports the bundled core by its package name and puts it on `globalThis.roomWatcher`, so
 * that tests run it through `page.evaluate` (see `pageCore`); `ready` is set once the import is done.
 */
export function corePage(title = "room-watcher in Chromium"): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports: { "room-watcher": CORE_BUNDLE_PATH } })}</script>
<script type="module">
import * as roomWatcher from "room-watcher";
globalThis.roomWatcher = roomWatcher;
document.body.dataset.ready = "true";
</script></head><body></body></html>`;
}

/** The core as the page holds it; for code inside `page.evaluate`, which runs in the page, not here. */
export type PageCore = typeof RoomWatcherCore;

export interface Site {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly origin: string;
  /** Requests served, by path. */
  readonly requests: string[];
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".css": "text/css; charset=utf-8",
};

/**
 * A static site on 127.0.0.1, port 0: `files` by path ("/" for the page, content type from the
 * extension, HTML for "/"), plus the core bundle at CORE_BUNDLE_PATH. Anything else is 404.
 */
export async function serveSite(files: Readonly<Record<string, string>> = { "/": corePage() }): Promise<Site> {
  const all = new Map(Object.entries({ ...files, [CORE_BUNDLE_PATH]: await coreBundle() }));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://site.invalid").pathname;
    requests.push(path);
    const body = all.get(path);
    if (body === undefined || req.method !== "GET") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const extension = /\.[a-z]+$/.exec(path)?.[0] ?? ".html";
    res.writeHead(200, { "content-type": CONTENT_TYPES[extension] ?? "application/octet-stream", "cache-control": "no-store" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Opens the core page of `site` and waits until it has imported the core. */
export async function openCorePage(chromiumHandle: ChromiumHandle, site: Site, options?: OpenOptions): Promise<Page> {
  const page = await chromiumHandle.open(`${site.origin}/`, options);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  return page;
}
