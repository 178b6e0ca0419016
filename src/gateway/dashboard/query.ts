/**
 * The snapshot route's query string: at most `since=<seq>` (the last event the page has), nothing
 * else. Anything else is a 400 naming what is wrong, before any work is done.
 */

export type SnapshotQuery = { readonly ok: true; readonly since: number } | { readonly ok: false; readonly message: string };

/** The longest parameter name repeated back in a 400. */
const MAX_NAME_CHARS = 40;

/** `url`: the request's path and query, as Node gives it. */
export function readSnapshotQuery(url: string): SnapshotQuery {
  const mark = url.indexOf("?");
  const query = mark === -1 ? "" : url.slice(mark + 1);
  if (query === "") return { ok: true, since: 0 };
  // URLSearchParams decodes a bad escape ("%zz") silently: refuse it first.
  for (const part of query.split("&")) {
    try {
      decodeURIComponent(part.replace(/\+/g, " "));
    } catch {
      return { ok: false, message: "malformed query string: bad percent-encoding" };
    }
  }
  const params = new URLSearchParams(query);
  let since: number | undefined;
  for (const [name, value] of params) {
    if (name !== "since") return { ok: false, message: `unknown query parameter ${JSON.stringify(name.slice(0, MAX_NAME_CHARS))}: the only one is since` };
    if (since !== undefined) return { ok: false, message: "since is given more than once" };
    if (!/^\d{1,15}$/.test(value)) return { ok: false, message: "since must be a non-negative integer (the seq of the last event seen)" };
    since = Number(value);
  }
  return { ok: true, since: since ?? 0 };
}
