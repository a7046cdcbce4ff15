/**
 * The URL a person opens to see the daemon's page: its base URL with the token as `?token=`.
 * The daemon answers it with the page and an HttpOnly cookie, so the page's later requests
 * need no token in their URLs. Pure (no Node built-ins), for the CLI and browsers alike.
 *
 * ```ts
 * const { url, token } = await new DaemonClient().status();
 * console.log(pageUrl(url, token));                          // http://127.0.0.1:8765/?token=...
 * console.log(pageUrl(url, token, { notebook: "demo" }));    // ...?notebook=demo&token=...
 * ```
 */
export function pageUrl(baseUrl: string, token: string, params: Record<string, string> = {}): string {
  const url = new URL(baseUrl);
  url.pathname = "/";
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  url.searchParams.set("token", token);
  return url.toString();
}
