/**
 * The daemon's network face (DESIGN.md "Reach"): one HTTP server for blobs, a small JSON API,
 * the web page and WebSocket upgrades, every one of them behind the daemon's token.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { RuntimedError } from "../protocol/errors";
import { MAX_FRAME_BYTES } from "../protocol/frame";
import { PROTOCOL_VERSION, type RoomSummary } from "../protocol/messages";
import { pageUrl } from "../protocol/page-url";
import { PACKAGE_VERSION } from "../protocol/version";
import { blobHashOf, plain, serveBlob } from "./blob-route";
import type { BlobStore } from "./blob-store";
import { isLoopbackHost, isWildcardHost, resolveFaceConfig, type FaceConfig, type FaceConfigOptions } from "./face-config";
import { OriginPolicy } from "./face-origin";
import { TokenGate, newToken } from "./face-token";
import type { Logger } from "./logger";
import { PageFiles, defaultPageDir } from "./page-files";

/** What the network face serves and whom it hands WebSockets to. */
export interface HttpFaceOptions extends FaceConfigOptions {
  /** The blob store behind `/blob/<sha256>`. */
  blobs: BlobStore;
  /** The rooms for `GET /api/rooms`. */
  listRooms: () => RoomSummary[];
  /** Receives each WebSocket at `/ws` once its token, `Host` and `Origin` have passed. */
  onWebSocket: (socket: WebSocket, request: http.IncomingMessage) => void;
  /** The built page's directory (default {@link defaultPageDir}); absent files are 404. */
  pageDir?: string;
  logger?: Logger;
  /** Where `RUNTIMED_HOST` / `RUNTIMED_PORT` / `RUNTIMED_ALLOW_ORIGIN` are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Open WebSockets at once (default 256); more are refused with 503. */
  maxWebSockets?: number;
  /** TCP connections at once, WebSockets included (default 512); more are dropped on accept. */
  maxConnections?: number;
}

// Node's defaults would let a peer hold a request open for minutes; nothing here needs that.
// Request headers: Node's default limit of 16 KiB, stated so it does not drift with Node.
const SERVER_LIMITS: http.ServerOptions = { maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 };
const IDLE_SOCKET_MS = 120_000;
const CLOSE_GRACE_MS = 1_000;

/**
 * The daemon's HTTP server: `GET /blob/<sha256>`, `GET /api/rooms`, `GET /api/status`, the page
 * at `/`, and WebSocket upgrades at `/ws`. Each request needs the token (header, `?token=`, or
 * the page's cookie) and a `Host` that names this daemon; a WebSocket also needs an allowed
 * `Origin`. Only GET and HEAD are served, never a request body.
 */
export class HttpFace {
  private readonly webSockets = new Set<WebSocket>();
  private readonly webSocketServer = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  private readonly gate: TokenGate;
  private readonly origins: OriginPolicy;
  private readonly page: PageFiles;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: http.Server,
    private readonly config: FaceConfig,
    /** The port actually bound (the configured one, or the one the system picked for 0). */
    readonly port: number,
    private readonly options: HttpFaceOptions,
  ) {
    this.gate = new TokenGate(newToken(), port);
    this.origins = new OriginPolicy(config);
    this.page = new PageFiles(options.pageDir ?? defaultPageDir());
    server.on("request", (request, response) => this.handle(request, response));
    server.on("upgrade", (request, socket, head) => this.upgrade(request, socket, head));
  }

  /** Listens where the options and environment say; `BAD_REQUEST` when that address cannot be had. */
  static async start(options: HttpFaceOptions): Promise<HttpFace> {
    const config = resolveFaceConfig(options, options.env);
    const server = http.createServer(SERVER_LIMITS);
    server.maxConnections = options.maxConnections ?? 512;
    server.timeout = IDLE_SOCKET_MS;
    // Nagle's algorithm would hold small frames back ~40 ms waiting for the peer's ACK.
    server.on("connection", (socket) => socket.setNoDelay(true));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => reject(listenFailed(config, error)));
      server.listen({ host: config.host, port: config.port }, () => resolve());
    });
    const face = new HttpFace(server, config, (server.address() as AddressInfo).port, options);
    if (!isLoopbackHost(config.host)) {
      options.logger?.warn(
        `the network face listens on ${config.host}, beyond this machine: anyone who can reach port ${face.port} and has the token can run code as this user; prefer the default 127.0.0.1 with an SSH tunnel`,
        { host: config.host, port: face.port },
      );
    }
    options.logger?.info("network face listening", { url: face.url, allow_origins: config.allowOrigins });
    return face;
  }

  /** The address listened on, as configured (`127.0.0.1` by default). */
  get host(): string {
    return this.config.host;
  }

  /** The daemon's token: give it to clients that should reach the daemon over the network. */
  get token(): string {
    return this.gate.token;
  }

  /** The base URL, e.g. `http://127.0.0.1:8765/` (a wildcard host is reached through 127.0.0.1). */
  get url(): string {
    const name = isWildcardHost(this.config.host) ? "127.0.0.1" : this.config.host;
    return `http://${name.includes(":") ? `[${name}]` : name}:${this.port}/`;
  }

  /** The page's URL with the token in it: what a person opens. */
  get pageUrl(): string {
    return pageUrl(this.url, this.token);
  }

  /** WebSockets open now. */
  get webSocketCount(): number {
    return this.webSockets.size;
  }

  /** Stops listening, closes WebSockets (1001, then terminated after a grace) and every connection. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const sockets = [...this.webSockets];
    for (const socket of sockets) socket.close(1001, "The runtimed daemon is stopping");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(sockets.map((socket) => new Promise((resolve) => (socket.readyState === socket.CLOSED ? resolve(null) : socket.once("close", resolve))))),
      new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
    ]);
    clearTimeout(timer);
    for (const socket of this.webSockets) socket.terminate();
    this.server.closeAllConnections();
    await closed;
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    response.setHeader("x-content-type-options", "nosniff");
    response.setHeader("referrer-policy", "no-referrer");
    // An unread body must not be drained into the next request on this connection.
    if (hasBody(request)) response.setHeader("connection", "close");
    const target = request.url ?? "/";
    const { pathname, query } = splitTarget(target);
    if (!this.origins.hostAllowed(request.headers.host)) return this.refuse(request, response, 403, "Host header names no address of this daemon");
    const corsOrigin = this.origins.corsOrigin(request.headers.origin);
    if (this.config.allowOrigins.length > 0) response.setHeader("vary", "Origin");
    if (corsOrigin) response.setHeader("access-control-allow-origin", corsOrigin);
    if (request.method === "OPTIONS" && corsOrigin && request.headers["access-control-request-method"]) return preflight(response);
    const source = this.gate.check(request, query);
    if (!source) return this.refuse(request, response, 401, "no valid token");
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      return plain(response, 405, "Method not allowed: use GET or HEAD\n");
    }
    if (hasBody(request)) return plain(response, 413, "This server accepts no request bodies\n");

    const hash = blobHashOf(target);
    if (hash) return serveBlob(this.options.blobs, hash, request, response);
    if (pathname === "/blob" || pathname.startsWith("/blob/")) return plain(response, 404, "Not found: blobs are at /blob/<sha256 hex>\n");
    if (pathname === "/api/rooms") return json(request, response, { rooms: this.options.listRooms() });
    if (pathname === "/api/status") return json(request, response, { name: "runtimed", version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION });
    if (pathname === "/api" || pathname.startsWith("/api/")) return plain(response, 404, "Not found\n");
    if (pathname === "/ws") {
      response.setHeader("upgrade", "websocket");
      return plain(response, 426, "Upgrade Required: /ws speaks WebSocket\n");
    }
    this.servePage(pathname, source === "query", request, response).catch(() => {
      if (!response.headersSent) plain(response, 500, "Could not read the page\n");
      else response.destroy();
    });
  }

  private async servePage(pathname: string, setCookie: boolean, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const found = await this.page.find(pathname);
    if (!found) return plain(response, 404, "Not found\n");
    // The page's own requests (fetch, WebSocket, <img src="/blob/...">) then need no token in URLs.
    if (setCookie) response.setHeader("set-cookie", this.gate.cookie());
    this.page.send(found, request, response);
  }

  /** 401/403 with nothing in the body about why; the log says why, at debug level. */
  private refuse(request: http.IncomingMessage, response: http.ServerResponse, status: 401 | 403, why: string): void {
    this.options.logger?.debug("http request refused", { status, why, method: request.method, remote: request.socket.remoteAddress });
    plain(response, status, `${status} ${http.STATUS_CODES[status]}`);
  }

  private upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const refuse = (status: number, why: string) => {
      this.options.logger?.info("websocket refused", { status, why, origin: request.headers.origin, remote: request.socket.remoteAddress });
      refuseUpgrade(socket, status);
    };
    const { pathname, query } = splitTarget(request.url ?? "/");
    if (this.closing) return refuse(503, "the daemon is stopping");
    if (!this.origins.hostAllowed(request.headers.host)) return refuse(403, "Host header names no address of this daemon");
    if (!this.gate.check(request, query)) return refuse(401, "no valid token");
    if (!this.origins.originAllowed(request.headers.origin, request.headers.host)) return refuse(403, "Origin not allowed");
    if (pathname !== "/ws") return refuse(404, "WebSockets are served at /ws only");
    if (this.webSockets.size >= (this.options.maxWebSockets ?? 256)) return refuse(503, "too many open WebSockets");
    this.webSocketServer.handleUpgrade(request, socket, head, (webSocket) => {
      this.webSockets.add(webSocket);
      webSocket.once("close", () => this.webSockets.delete(webSocket));
      try {
        this.options.onWebSocket(webSocket, request);
      } catch (error) {
        this.options.logger?.error("websocket handler failed", { error: error instanceof Error ? error.message : String(error) });
        webSocket.terminate();
      }
    });
  }
}

/** The path and query of a raw request target, split by hand: `//x` must not parse as a host. */
function splitTarget(target: string): { pathname: string; query: URLSearchParams } {
  const withoutFragment = target.split("#", 1)[0]!;
  const question = withoutFragment.indexOf("?");
  if (question < 0) return { pathname: withoutFragment, query: new URLSearchParams() };
  return { pathname: withoutFragment.slice(0, question), query: new URLSearchParams(withoutFragment.slice(question + 1)) };
}

function hasBody(request: http.IncomingMessage): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function json(request: http.IncomingMessage, response: http.ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  response.statusCode = 200;
  response.setHeader("content-type", "application/json; charset=utf-8");
  response.setHeader("content-length", Buffer.byteLength(body));
  response.setHeader("cache-control", "no-store");
  response.end(request.method === "HEAD" ? undefined : body);
}

/** A CORS preflight for an allow-listed origin: it may GET with an `Authorization` header. */
function preflight(response: http.ServerResponse): void {
  response.statusCode = 204;
  response.setHeader("access-control-allow-methods", "GET, HEAD");
  response.setHeader("access-control-allow-headers", "Authorization");
  response.setHeader("access-control-max-age", "600");
  response.end();
}

/** Answers an upgrade with a plain HTTP error and closes the socket, as `ws` itself does. */
function refuseUpgrade(socket: Duplex, status: number): void {
  const reason = http.STATUS_CODES[status] ?? "Error";
  const body = `${status} ${reason}`;
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\n\r\n${body}`,
  );
}

function listenFailed(config: FaceConfig, error: NodeJS.ErrnoException): RuntimedError {
  const where = `${config.host}:${config.port}`;
  const why =
    error.code === "EADDRINUSE"
      ? `port ${config.port} is in use; choose another with --port or RUNTIMED_PORT (0 picks a free one)`
      : error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND"
        ? `${config.host} is not an address of this machine; use --host 127.0.0.1 (the default) or 0.0.0.0`
        : error.code === "EACCES"
          ? `port ${config.port} needs privileges; choose one above 1023`
          : error.message;
  return new RuntimedError("BAD_REQUEST", `The daemon's network face cannot listen on ${where}: ${why}`, { cause: error });
}
