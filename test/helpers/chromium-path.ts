/** Where the browser tests find Chromium: a file of its own, so the global setup can ask without loading playwright-core. */
import { accessSync, constants } from "node:fs";

/** Where the tests look for Chromium; ROOM_WATCHER_CHROMIUM overrides it (scripts/chromium.sh reads the same). */
export function chromiumPath(): string {
  const configured = process.env.ROOM_WATCHER_CHROMIUM;
  const path = configured === undefined || configured === "" ? "/usr/bin/chromium" : configured;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium is not installed (no executable ${path}), and the browser tests need it. ` +
        "Install Debian's chromium with `bash scripts/chromium.sh install` (apt-get, as root or through sudo), " +
        "or point ROOM_WATCHER_CHROMIUM at a Chromium binary.",
    );
  }
  return path;
}

