/**
 * The network face's token, Jupyter Server style: one random secret per daemon start, presented
 * as `Authorization: token <T>`, as `?token=<T>`, or as the HttpOnly cookie the page receives.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** A fresh token: 256 random bits as 64 hex digits. */
export function newToken(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Compares two tokens in constant time. Both are hashed first so the comparison takes the same
 * time whatever their lengths, and `timingSafeEqual` sees two equal-length digests.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** How a request proved it knows the token. */
export type TokenSource = "header" | "query" | "cookie";

/** Checks requests against one daemon's token and issues the page's cookie. */
export class TokenGate {
  /** The cookie's name; the port in it keeps two daemons on one host from overwriting each other's. */
  readonly cookieName: string;

  constructor(
    readonly token: string,
    port: number,
  ) {
    this.cookieName = `runtimed-token-${port}`;
  }

  /** Where the request carried a valid token, or null when it carried none or only wrong ones. */
  check(request: IncomingMessage, query: URLSearchParams): TokenSource | null {
    const header = headerToken(request.headers.authorization);
    if (header !== undefined && tokensEqual(header, this.token)) return "header";
    for (const value of query.getAll("token")) if (tokensEqual(value, this.token)) return "query";
    for (const value of cookieValues(request.headers.cookie, this.cookieName)) if (tokensEqual(value, this.token)) return "cookie";
    return null;
  }

  /**
   * The `Set-Cookie` value that lets the page's own requests (fetches, the WebSocket, `<img>`
   * blob URLs) authenticate without the token in every URL. HttpOnly: scripts never read it;
   * SameSite=Strict: other sites' pages do not send it. No Max-Age: it ends with the browser
   * session, and a new daemon has a new token anyway.
   */
  cookie(): string {
    return `${this.cookieName}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

/** The token of `Authorization: token <T>` (or `Bearer <T>`, which some HTTP clients insist on). */
function headerToken(authorization: string | undefined): string | undefined {
  const match = /^\s*(?:token|bearer)\s+(\S+)\s*$/i.exec(authorization ?? "");
  return match?.[1];
}

/** Every value of cookie `name` in a `Cookie` header (a browser may send one name twice). */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals < 0 || pair.slice(0, equals).trim() !== name) continue;
    values.push(pair.slice(equals + 1).trim().replace(/^"(.*)"$/, "$1"));
  }
  return values;
}
