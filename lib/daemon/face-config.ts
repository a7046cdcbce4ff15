/**
 * Where the daemon's network face listens and which web origins may drive it: options first,
 * then `RUNTIMED_HOST` / `RUNTIMED_PORT` / `RUNTIMED_ALLOW_ORIGIN`, then loopback on a free port.
 */
import * as net from "node:net";
import { RuntimedError } from "../protocol/errors";

/** The resolved address and origin allow-list of the network face. */
export interface FaceConfig {
  /** The address to listen on (brackets stripped from IPv6 literals). */
  host: string;
  /** The TCP port; 0 lets the system pick a free one. */
  port: number;
  /** Web origins, normalised by {@link normalizeOrigin}, allowed besides the daemon's own. */
  allowOrigins: string[];
}

/** What a caller may choose; anything left out comes from the environment. */
export interface FaceConfigOptions {
  host?: string;
  port?: number;
  allowOrigins?: readonly string[];
}

/** The default: loopback only, so nothing off this machine can even connect. */
export const DEFAULT_HOST = "127.0.0.1";

/** Resolves options against the environment; a malformed value is a `BAD_REQUEST` naming it. */
export function resolveFaceConfig(options: FaceConfigOptions = {}, env: NodeJS.ProcessEnv = process.env): FaceConfig {
  const host = checkHost(options.host ?? (env.RUNTIMED_HOST || DEFAULT_HOST), options.host !== undefined ? "host" : "RUNTIMED_HOST");
  const port = options.port !== undefined ? checkPort(options.port, "port") : env.RUNTIMED_PORT ? parsePort(env.RUNTIMED_PORT, "RUNTIMED_PORT") : 0;
  const origins = options.allowOrigins ?? (env.RUNTIMED_ALLOW_ORIGIN ? splitList(env.RUNTIMED_ALLOW_ORIGIN) : []);
  const source = options.allowOrigins ? "allowOrigins" : "RUNTIMED_ALLOW_ORIGIN";
  return { host, port, allowOrigins: [...new Set(origins.map((origin) => normalizeOrigin(origin, source)))] };
}

/** Parses a port number given as text (`--port`, `RUNTIMED_PORT`): a whole number 0-65535. */
export function parsePort(text: string, name: string): number {
  if (!/^\d{1,5}$/.test(text.trim())) throw badPort(text, name);
  return checkPort(Number(text.trim()), name);
}

function checkPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw badPort(String(port), name);
  return port;
}

function badPort(text: string, name: string): RuntimedError {
  return new RuntimedError("BAD_REQUEST", `${name} must be a port number from 0 to 65535 (0: any free port), not '${text}'`);
}

function checkHost(text: string, name: string): string {
  const host = text.trim().replace(/^\[(.*)\]$/, "$1");
  // A host name or an IP literal, nothing that could smuggle a path or credentials into a URL.
  if (!host || !(net.isIP(host) || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host))) {
    throw new RuntimedError("BAD_REQUEST", `${name} must be a host name or an IP address such as 127.0.0.1 or 0.0.0.0, not '${text}'`);
  }
  return host.toLowerCase();
}

/** Splits a comma-separated list (`--allow-origin a,b`, `RUNTIMED_ALLOW_ORIGIN`), dropping blanks. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/**
 * The form of an origin that a browser's `Origin` header takes: `scheme://host[:port]`, lower
 * case, no default port, no trailing slash. `null` (sandboxed frames, files) stays `null`.
 * Anything with a path, query or credentials is a `BAD_REQUEST`: an origin is not a URL.
 */
export function normalizeOrigin(text: string, name = "origin"): string {
  const trimmed = text.trim();
  if (trimmed === "null") return "null";
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw badOrigin(text, name);
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) throw badOrigin(text, name);
  if (url.protocol === "http:" || url.protocol === "https:") return url.origin;
  // Other schemes (app://, vscode-webview://) have an opaque URL origin; browsers send them as written.
  if (!url.host) throw badOrigin(text, name);
  return `${url.protocol}//${url.host}`.toLowerCase();
}

function badOrigin(text: string, name: string): RuntimedError {
  return new RuntimedError("BAD_REQUEST", `${name} takes web origins such as https://app.example.com or http://localhost:5173 (scheme, host and port; no path), not '${text}'`);
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  if (net.isIPv4(bare)) return bare.startsWith("127.");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  return mapped !== null && mapped[1]!.startsWith("127.");
}

/** True for the any-address hosts, which listen on every interface (loopback included). */
export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}
