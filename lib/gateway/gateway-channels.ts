import type { Socket } from "node:net";
import WebSocket from "ws";
import type { JupyterMessage } from "../kernel/wire";
import type { GatewayConfig } from "./gateway-config";
import { V1_SUBPROTOCOL, decodeLegacy, decodeV1, encodeLegacy, encodeV1, type ChannelMessage } from "./ws-codec";

/** Which encoding a channels connection speaks. */
export type ChannelsProtocol = "v1" | "legacy";

/** Why a channels WebSocket could not be opened. */
export class ChannelsOpenError extends Error {
  override readonly name = "ChannelsOpenError";

  constructor(
    message: string,
    /** The HTTP status the server answered the upgrade with, if it answered. */
    readonly httpStatus: number | undefined,
    /** The server accepted the upgrade but offered no subprotocol: try again without one. */
    readonly noSubprotocol = false,
  ) {
    super(message);
  }
}

/** What a channels connection hands back. */
export interface ChannelsHandlers {
  message(incoming: ChannelMessage): void;
  /** The connection closed (or stopped answering pings) without `close()` being called. */
  closed(code: number, reason: string): void;
}

/** How to open one channels connection. */
export interface ChannelsOpenOptions {
  config: GatewayConfig;
  /** Headers for the upgrade (auth token and configured headers). */
  headers: Record<string, string>;
  kernelId: string;
  /** The client session id: the server replays what it buffered for this id after a drop. */
  sessionId: string;
  /** The encoding to ask for; default v1 (the server may answer without it: see `noSubprotocol`). */
  protocol?: ChannelsProtocol;
  handlers: ChannelsHandlers;
}

/** Pings the server this often; a connection that misses a pong is closed and reconnected. */
const PING_INTERVAL_MS = 30_000;
/** The largest message accepted from the server (outputs may be large). */
const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;

/**
 * One open WebSocket to `/api/kernels/<id>/channels`: sends and receives Jupyter messages in
 * the v1 framing or the legacy JSON encoding, with TCP_NODELAY on its socket. It does not
 * reconnect; its owner (`GatewayKernel`) does.
 */
export class ChannelsSocket {
  private closedByUs = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private ackQueued = false;

  private constructor(
    private readonly ws: WebSocket,
    readonly protocol: ChannelsProtocol,
    private readonly handlers: ChannelsHandlers,
    private readonly eagerAck: boolean,
  ) {
    ws.on("message", (data, isBinary) => this.receive(data as Buffer, isBinary));
    ws.on("pong", () => (this.awaitingPong = false));
    ws.on("close", (code, reason) => {
      clearInterval(this.pingTimer);
      if (!this.closedByUs) handlers.closed(code, reason.toString());
    });
    ws.on("error", () => undefined); // a close event follows every error
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) return void ws.terminate();
      this.awaitingPong = true;
      ws.ping();
    }, PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  /** Opens a connection; rejects `ChannelsOpenError` saying why it could not. */
  static open(options: ChannelsOpenOptions): Promise<ChannelsSocket> {
    const { config, kernelId, sessionId } = options;
    const protocol = options.protocol ?? "v1";
    const url = `${config.wsUrl}/api/kernels/${encodeURIComponent(kernelId)}/channels?session_id=${encodeURIComponent(sessionId)}`;
    return new Promise<ChannelsSocket>((resolve, reject) => {
      const ws = new WebSocket(url, protocol === "v1" ? [V1_SUBPROTOCOL] : [], {
        headers: options.headers,
        rejectUnauthorized: config.validateCert,
        handshakeTimeout: config.requestTimeoutMs,
        perMessageDeflate: false,
        maxPayload: MAX_PAYLOAD_BYTES,
      });
      let tcpSocket: Socket | undefined;
      let settled = false;
      const fail = (error: ChannelsOpenError) => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners();
        ws.on("error", () => undefined);
        ws.terminate();
        reject(error);
      };
      ws.on("upgrade", (response) => (tcpSocket = response.socket));
      ws.on("unexpected-response", (_request, response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        fail(new ChannelsOpenError(`the gateway answered the channels WebSocket with HTTP ${status}`, status));
      });
      ws.on("error", (error: Error & { code?: string }) => {
        const noSubprotocol = /no subprotocol/i.test(error.message);
        fail(new ChannelsOpenError(error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message, undefined, noSubprotocol));
      });
      ws.on("close", () => fail(new ChannelsOpenError("the channels WebSocket closed while opening", undefined)));
      ws.on("open", () => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners();
        // ws turns Nagle's algorithm off itself; say so explicitly (and allow measuring it on).
        tcpSocket?.setNoDelay(config.tcpNoDelay);
        const speaks: ChannelsProtocol = ws.protocol === V1_SUBPROTOCOL ? "v1" : "legacy";
        resolve(new ChannelsSocket(ws, speaks, options.handlers, config.eagerAck));
      });
    });
  }

  /** Sends `message` on the kernel `channel` (shell, control, stdin); false when the connection is no longer open. */
  send(channel: string, message: JupyterMessage): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    const frame = this.protocol === "v1" ? encodeV1(channel, message) : encodeLegacy(channel, message);
    this.ws.send(frame, { binary: typeof frame !== "string" });
    return true;
  }

  /** Closes the connection; `closed` is not called for it. */
  close(): void {
    this.closedByUs = true;
    clearInterval(this.pingTimer);
    this.ws.close();
    // A server that does not answer the close handshake must not keep the socket open.
    const timer = setTimeout(() => this.ws.terminate(), 1000);
    this.ws.once("close", () => clearTimeout(timer));
  }

  /**
   * Sends an empty unsolicited pong (RFC 6455 allows one; servers ignore it) after each burst
   * of incoming frames. Its only purpose is the TCP ACK riding on it: a server that leaves
   * Nagle's algorithm on (tornado, hence jupyter_server and Enterprise Gateway) holds each
   * further small message until the previous one is acknowledged, and a client's delayed ACK
   * takes up to 40 ms — several times per execution.
   */
  private acknowledge(): void {
    if (this.ackQueued) return;
    this.ackQueued = true;
    setImmediate(() => {
      this.ackQueued = false;
      if (this.ws.readyState === WebSocket.OPEN) this.ws.pong();
    });
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.eagerAck) this.acknowledge();
    let incoming: ChannelMessage;
    try {
      incoming = this.protocol === "v1" && isBinary ? decodeV1(data) : decodeLegacy(isBinary ? data : data.toString("utf8"), isBinary);
    } catch {
      return; // a malformed frame is dropped, as the ZeroMQ reader drops a malformed message
    }
    this.handlers.message(incoming);
  }
}
