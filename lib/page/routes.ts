/**
 * The page's addresses: `#/` is the room list, `#/notebook/<id>` a notebook (ids are often
 * absolute paths, so they are percent-encoded). `runtimed open` prints `/?notebook=<id>&token=…`;
 * the page turns that into its hash and takes both parameters out of the address bar.
 */

/** What the hash points at. */
export type Route = { view: "rooms" } | { view: "notebook"; notebookId: string };

/** The hash of a notebook's view. */
export function notebookHash(notebookId: string): string {
  return `#/notebook/${encodeURIComponent(notebookId)}`;
}

/** The route of a hash (`location.hash`). */
export function parseRoute(hash: string): Route {
  const match = /^#\/notebook\/(.+)$/.exec(hash);
  if (!match) return { view: "rooms" };
  try {
    return { view: "notebook", notebookId: decodeURIComponent(match[1]!) };
  } catch {
    return { view: "rooms" };
  }
}

/**
 * The address to show instead of `href`: without `token` (the cookie holds it by now, and an
 * address bar, history or a shared screenshot should not) and with `notebook` moved to the hash.
 */
export function cleanAddress(href: string): string {
  const url = new URL(href);
  const notebookId = url.searchParams.get("notebook");
  url.searchParams.delete("token");
  url.searchParams.delete("notebook");
  if (notebookId) url.hash = notebookHash(notebookId);
  return `${url.pathname}${url.search}${url.hash}`;
}
