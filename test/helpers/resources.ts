/** What a test leaves running, measured: active resources (timers, sockets, servers, child processes). */

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
