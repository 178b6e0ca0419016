/** What a test leaves running, measured: active resources (timers, sockets, servers, child processes). */
import { getActiveResourcesInfo } from "node:process";

/** Resources alive in `after` that were not in `before` (getActiveResourcesInfo() lists, as multisets). */
export function newResources(before: readonly string[], after: readonly string[]): string[] {
  const remaining = [...before];
  const extra: string[] = [];
  for (const resource of after) {
    const i = remaining.indexOf(resource);
    if (i === -1) extra.push(resource);
    else remaining.splice(i, 1);
  }
  return extra;
}

/**
 * What is still running that was not in `before`, once sockets have had the event loop's turns to
 * close (a pooled socket closes when it reads the peer's FIN: I/O turns, no timer): gives up to
 * `maxTurns` turns, and answers early once nothing is left.
 */
export async function resourcesLeftAfter(before: readonly string[], maxTurns = 1_000): Promise<string[]> {
  let left = newResources(before, getActiveResourcesInfo());
  for (let turn = 0; left.length > 0 && turn < maxTurns; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    left = newResources(before, getActiveResourcesInfo());
  }
  return left;
}
