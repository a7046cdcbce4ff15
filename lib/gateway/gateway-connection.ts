import type { JupyterMessage } from "../kernel/wire";
import { ChannelsOpenError, ChannelsSocket, type ChannelsProtocol } from "./gateway-channels";
import type { GatewayHttp } from "./gateway-http";
import type { ChannelMessage } from "./ws-codec";

/** What a gateway connection tells its kernel. */
export interface GatewayConnectionEvents {
  message(incoming: ChannelMessage): void;
  /** The WebSocket dropped while the kernel was in use; reconnecting has begun. */
  dropped(): void;
  /** The WebSocket is open again after a drop (same kernel, same session id). */
  restored(): void;
  /**
   * Reconnecting gave up: the gateway no longer knows the kernel, reports it dead (then
   * `deleteOnGateway`), or stopped answering.
   */
  lost(message: string, deleteOnGateway: boolean): void;
}

/** Where a connection reports what it does (the daemon's logger fits). */
export interface GatewayLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The channels WebSocket of one gateway kernel, kept open: `v1` where the server offers it,
 * else JSON; messages sent while it is down wait in an outbox; a drop is followed by
 * reconnects with backoff (the config's retry interval, doubled up to its maximum, its retry
 * count) under the same session id, so that the server replays what it buffered meanwhile.
 */
export class GatewayConnection {
  private socket: ChannelsSocket | undefined;
  private speaks: ChannelsProtocol = "v1";
  private readonly outbox: { channel: string; message: JupyterMessage }[] = [];
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly http: GatewayHttp,
    private readonly kernelId: string,
    private readonly sessionId: string,
    private readonly events: GatewayConnectionEvents,
    private readonly log?: GatewayLog,
  ) {}

  /** The encoding in use (`v1`, or `legacy` JSON). */
  get protocol(): ChannelsProtocol {
    return this.speaks;
  }

  /** Opens the WebSocket; rejects `ChannelsOpenError` (or a RuntimedError) saying why it could not. */
  async open(): Promise<void> {
    const attempt = (protocol: ChannelsProtocol) =>
      ChannelsSocket.open({
        config: this.http.config,
        headers: this.http.headers(),
        kernelId: this.kernelId,
        sessionId: this.sessionId,
        protocol,
        handlers: { message: (incoming) => this.events.message(incoming), closed: (code, reason) => this.onClosed(code, reason) },
      });
    let socket: ChannelsSocket;
    try {
      socket = await attempt(this.speaks);
    } catch (error) {
      // Servers before jupyter_server 2 (and gateways built on them) may speak JSON only.
      if (!(error instanceof ChannelsOpenError && error.noSubprotocol && this.speaks === "v1")) throw error;
      this.speaks = "legacy";
      socket = await attempt("legacy");
    }
    if (this.closed) return socket.close();
    this.socket = socket;
    for (const { channel, message } of this.outbox.splice(0)) this.send(channel, message);
  }

  /**
   * Closes the WebSocket and opens a new one (same session id): after a restart the kernel may
   * listen on other ports, and the server connects a new WebSocket to the ports it has now.
   */
  async reopen(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
    await this.open();
  }

  /** Sends `message` on `channel` now, or once the connection is back. */
  send(channel: string, message: JupyterMessage): void {
    if (this.closed) return;
    if (!this.socket?.send(channel, message)) this.outbox.push({ channel, message });
  }

  /** Closes the WebSocket for good: no reconnect, nothing more sent. */
  close(): void {
    this.closed = true;
    this.wake?.();
    this.outbox.length = 0;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
  }

  private onClosed(code: number, reason: string): void {
    this.socket = undefined;
    if (this.closed) return;
    this.log?.warn("gateway channels connection dropped; reconnecting", { kernel_id: this.kernelId, code, reason });
    this.events.dropped();
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const { retryMax, retryIntervalMs, retryIntervalMaxMs, url } = this.http.config;
    const gone = `it no longer knows kernel ${this.kernelId}`;
    let delay = 0;
    let lastError = "";
    for (let attempt = 0; attempt <= retryMax; attempt++) {
      if (delay > 0) await this.pause(delay);
      if (this.closed) return;
      try {
        const model = await this.http.kernel(this.kernelId);
        if (!model) return this.events.lost(`is gone from the gateway at ${url} (${gone})`, false);
        if (model.executionState === "dead") return this.events.lost(`died on the gateway at ${url}`, true);
        await this.open();
        if (this.closed) return;
        this.log?.info("gateway channels connection restored", { kernel_id: this.kernelId, attempt });
        return this.events.restored();
      } catch (error) {
        if (error instanceof ChannelsOpenError && error.httpStatus === 404) return this.events.lost(`is gone from the gateway at ${url} (${gone})`, false);
        lastError = error instanceof Error ? error.message : String(error);
      }
      delay = delay === 0 ? retryIntervalMs : Math.min(delay * 2, retryIntervalMaxMs);
    }
    this.events.lost(`was lost: the gateway at ${url} stopped answering (${retryMax + 1} attempts to reconnect failed; last: ${lastError})`, false);
  }

  /** Waits `ms`, or less when the connection is closed meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
