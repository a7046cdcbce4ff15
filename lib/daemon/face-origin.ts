/**
 * Which names the daemon answers to (the `Host` check against DNS rebinding) and which web pages
 * may open its WebSocket (the `Origin` check against cross-site WebSocket hijacking).
 */
import * as net from "node:net";
import * as os from "node:os";
import { isLoopbackHost, normalizeOrigin, type FaceConfig } from "./face-config";

/**
 * The network face's policy for `Host` and `Origin` headers.
 *
 * Host: DNS rebinding points an attacker's name at 127.0.0.1, so a request that reaches us with
 * a `Host` of a name we do not know is refused, as Jupyter Server's local-host check does. IP
 * literals are always accepted (a rebinding needs a name), as are `localhost`, the configured
 * host, this machine's host name when listening beyond loopback, and the host names of
 * allow-listed origins (for a reverse proxy). The port is not compared: an `ssh -L 9000:...`
 * tunnel rightly arrives as `localhost:9000`.
 *
 * Origin: a request without one comes from a program, not a page, and is judged by its token
 * alone. A page is allowed when it is the daemon's own (its origin is the `Host` it asked, over
 * http or https) or its origin is on the allow-list.
 */
export class OriginPolicy {
  private readonly knownNames: Set<string>;
  private readonly allowOrigins: Set<string>;

  constructor(config: Pick<FaceConfig, "host" | "allowOrigins">) {
    this.allowOrigins = new Set(config.allowOrigins);
    this.knownNames = new Set(["localhost", config.host.toLowerCase()]);
    if (!isLoopbackHost(config.host)) this.knownNames.add(os.hostname().toLowerCase());
    for (const origin of config.allowOrigins) {
      const name = hostOf(origin);
      if (name) this.knownNames.add(name);
    }
  }

  /** True when the `Host` header names this daemon. A missing or malformed header is refused. */
  hostAllowed(hostHeader: string | undefined): boolean {
    const name = parseHostHeader(hostHeader)?.name;
    if (name === undefined) return false;
    return net.isIP(name) !== 0 || this.knownNames.has(name);
  }

  /** True when a WebSocket upgrade with this `Origin` (and an allowed `Host`) may proceed. */
  originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
    if (origin === undefined) return true;
    const normalized = tryNormalize(origin);
    if (normalized === undefined) return false;
    if (this.allowOrigins.has(normalized)) return true;
    const host = parseHostHeader(hostHeader)?.host;
    return host !== undefined && (normalized === `http://${host}` || normalized === `https://${host}`);
  }

  /**
   * The value for `Access-Control-Allow-Origin` when a page on an allow-listed origin reads from
   * us with `fetch` (blobs, the rooms list), else undefined. Credentials (the cookie) are never
   * allowed cross-origin: such a page sends the token in the `Authorization` header.
   */
  corsOrigin(origin: string | undefined): string | undefined {
    if (origin === undefined) return undefined;
    const normalized = tryNormalize(origin);
    return normalized !== undefined && normalized !== "null" && this.allowOrigins.has(normalized) ? origin : undefined;
  }
}

/** `Host: name[:port]` split and normalised, or undefined when it is not a plain host. */
function parseHostHeader(header: string | undefined): { name: string; host: string } | undefined {
  // Anything a URL parser would read as credentials, a path or a query is not a host.
  if (!header || /[\s/\\@?#]/.test(header)) return undefined;
  try {
    const url = new URL(`http://${header}`);
    const name = url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
    return name ? { name, host: url.host.toLowerCase() } : undefined;
  } catch {
    return undefined;
  }
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

function tryNormalize(origin: string): string | undefined {
  try {
    return normalizeOrigin(origin);
  } catch {
    return undefined;
  }
}
