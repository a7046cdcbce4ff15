import { RuntimedError } from "../protocol/errors";

/**
 * Where and how to reach a Jupyter Server or Enterprise Gateway, as a daemon's option
 * (`DaemonOptions.gateway`). Only `url` is required; the rest default as Jupyter's own
 * `GatewayClient` does.
 */
export interface GatewayOptions {
  /** Base URL, e.g. `https://eg.example.com:8888` (a path prefix is kept). */
  url: string;
  /** WebSocket base URL; default `url` with `http` replaced by `ws`. */
  wsUrl?: string;
  /** Sent as `Authorization: <authScheme> <authToken>`. */
  authToken?: string;
  /** Default `token`. */
  authScheme?: string;
  /** Extra headers on every request and WebSocket upgrade. */
  headers?: Record<string, string>;
  /** False accepts self-signed certificates on https/wss (default true). */
  validateCert?: boolean;
  /** Time allowed for one REST request (default 42 s, Jupyter's). */
  requestTimeoutMs?: number;
  /** First wait before reconnecting a dropped channels WebSocket (default 1 s), doubled each try. */
  retryIntervalMs?: number;
  /** Longest wait between reconnects (default 30 s). */
  retryIntervalMaxMs?: number;
  /** Reconnects before the kernel is given up for lost (default 5). */
  retryMax?: number;
  /** Environment variables passed to each kernel in the start request (Enterprise Gateway reads `KERNEL_*`). */
  kernelEnv?: Record<string, string>;
  /** Set TCP_NODELAY on the channels connection (default true; false only to measure Nagle's algorithm). */
  tcpNoDelay?: boolean;
  /**
   * Acknowledge each burst of incoming messages at once with an empty WebSocket pong, so that a
   * server with Nagle's algorithm on does not wait for our delayed TCP ACK (default true; false
   * only to measure it).
   */
  eagerAck?: boolean;
}

/** `GatewayOptions` with every default filled in and the URLs checked. */
export interface GatewayConfig {
  url: string;
  wsUrl: string;
  authToken: string | undefined;
  authScheme: string;
  headers: Record<string, string>;
  validateCert: boolean;
  requestTimeoutMs: number;
  retryIntervalMs: number;
  retryIntervalMaxMs: number;
  retryMax: number;
  kernelEnv: Record<string, string>;
  tcpNoDelay: boolean;
  eagerAck: boolean;
}

/** The environment variables read, with Jupyter's names (see jupyter_server's GatewayClient). */
export const GATEWAY_ENV = {
  url: "JUPYTER_GATEWAY_URL",
  wsUrl: "JUPYTER_GATEWAY_WS_URL",
  authToken: "JUPYTER_GATEWAY_AUTH_TOKEN",
  authScheme: "JUPYTER_GATEWAY_AUTH_SCHEME",
  headers: "JUPYTER_GATEWAY_HEADERS",
  validateCert: "JUPYTER_GATEWAY_VALIDATE_CERT",
  requestTimeout: "JUPYTER_GATEWAY_REQUEST_TIMEOUT",
  retryInterval: "JUPYTER_GATEWAY_RETRY_INTERVAL",
  retryIntervalMax: "JUPYTER_GATEWAY_RETRY_INTERVAL_MAX",
  retryMax: "JUPYTER_GATEWAY_RETRY_MAX",
  envWhitelist: "JUPYTER_GATEWAY_ENV_WHITELIST",
} as const;

/** Jupyter's `launch_timeout_pad`: the start request outlasts the kernel launch by this much. */
const LAUNCH_TIMEOUT_PAD_MS = 2000;

function invalid(message: string): RuntimedError {
  return new RuntimedError("BAD_REQUEST", message);
}

function checkedUrl(value: string, schemes: string[], what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw invalid(`${what} ${JSON.stringify(value)} is not a URL; expected e.g. https://gateway.example.com:8888`);
  }
  if (!schemes.includes(parsed.protocol)) {
    throw invalid(`${what} ${JSON.stringify(value)} must start with ${schemes.map((s) => `${s}//`).join(" or ")}`);
  }
  if (parsed.username || parsed.password) throw invalid(`${what} must not carry credentials; use the auth token`);
  parsed.search = "";
  parsed.hash = "";
  return parsed.toString().replace(/\/+$/, "");
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw invalid(`${what} must be a non-negative number, not ${value}`);
  return value;
}

/** Fills in defaults and checks `options`; throws BAD_REQUEST naming what is wrong. */
export function resolveGatewayConfig(options: GatewayOptions): GatewayConfig {
  const url = checkedUrl(options.url, ["http:", "https:"], "The gateway URL");
  const kernelEnv = { ...options.kernelEnv };
  // Jupyter's rule: the start request waits as long as Enterprise Gateway's kernel launch may
  // take, plus a pad; the launch timeout the kernel is given follows the request timeout.
  let requestTimeoutMs = positive(options.requestTimeoutMs, 42_000, "The gateway request timeout");
  const launchSecs = Number(kernelEnv.KERNEL_LAUNCH_TIMEOUT);
  if (kernelEnv.KERNEL_LAUNCH_TIMEOUT && Number.isFinite(launchSecs)) requestTimeoutMs = Math.max(requestTimeoutMs, launchSecs * 1000 + LAUNCH_TIMEOUT_PAD_MS);
  kernelEnv.KERNEL_LAUNCH_TIMEOUT = String(Math.floor((requestTimeoutMs - LAUNCH_TIMEOUT_PAD_MS) / 1000));
  const wsUrl = options.wsUrl ? checkedUrl(options.wsUrl, ["ws:", "wss:"], "The gateway WebSocket URL") : url.replace(/^http/, "ws");
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (typeof value !== "string") throw invalid(`Gateway header ${name} must be a string`);
  }
  return {
    url,
    wsUrl,
    authToken: options.authToken || undefined,
    authScheme: options.authScheme || "token",
    headers: { ...options.headers },
    validateCert: options.validateCert ?? true,
    requestTimeoutMs,
    retryIntervalMs: positive(options.retryIntervalMs, 1000, "The gateway retry interval"),
    retryIntervalMaxMs: positive(options.retryIntervalMaxMs, 30_000, "The gateway maximum retry interval"),
    retryMax: Math.floor(positive(options.retryMax, 5, "The gateway retry count")),
    kernelEnv,
    tcpNoDelay: options.tcpNoDelay ?? true,
    eagerAck: options.eagerAck ?? true,
  };
}

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw invalid(`${name}=${JSON.stringify(text)} must be a non-negative number of seconds`);
  return value * 1000;
}

function headersFrom(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const text = env[GATEWAY_ENV.headers];
  if (text === undefined || text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`${GATEWAY_ENV.headers} is not JSON (${(error as Error).message}); expected e.g. '{"X-Team": "data"}'`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
    throw invalid(`${GATEWAY_ENV.headers} must be a JSON object of string values, e.g. '{"X-Team": "data"}'`);
  }
  return value as Record<string, string>;
}

/** What Jupyter passes to a gateway kernel: every `KERNEL_*` variable and those whitelisted. */
function kernelEnvFrom(env: NodeJS.ProcessEnv): Record<string, string> {
  const whitelist = new Set((env[GATEWAY_ENV.envWhitelist] ?? "").split(",").map((name) => name.trim()).filter(Boolean));
  const kernelEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (name.startsWith("KERNEL_") || whitelist.has(name))) kernelEnv[name] = value;
  }
  return kernelEnv;
}

/**
 * The gateway configured by `JUPYTER_GATEWAY_*` variables, with `overrides` (command-line flags)
 * on top; undefined when no URL is set. Throws BAD_REQUEST on a malformed value.
 *
 * ```ts
 * const config = gatewayConfigFromEnv(process.env, { url: "--gateway-url value" });
 * ```
 */
export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv, overrides: Partial<GatewayOptions> = {}): GatewayConfig | undefined {
  const url = overrides.url || env[GATEWAY_ENV.url];
  if (!url) return undefined;
  const validate = env[GATEWAY_ENV.validateCert];
  return resolveGatewayConfig({
    url,
    wsUrl: env[GATEWAY_ENV.wsUrl] || undefined,
    authToken: env[GATEWAY_ENV.authToken],
    authScheme: env[GATEWAY_ENV.authScheme],
    headers: headersFrom(env),
    // Jupyter's rule ("no" and "false" turn validation off), and "0" as a shell user would expect.
    validateCert: validate === undefined ? undefined : !["no", "false", "0"].includes(validate.trim().toLowerCase()),
    requestTimeoutMs: seconds(env, GATEWAY_ENV.requestTimeout),
    retryIntervalMs: seconds(env, GATEWAY_ENV.retryInterval),
    retryIntervalMaxMs: seconds(env, GATEWAY_ENV.retryIntervalMax),
    retryMax: env[GATEWAY_ENV.retryMax] ? Number(env[GATEWAY_ENV.retryMax]) : undefined,
    kernelEnv: kernelEnvFrom(env),
    ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined && value !== "")),
  });
}
