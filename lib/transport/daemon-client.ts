import { RuntimedError } from "../protocol/errors";
import { PROTOCOL_VERSION, type DaemonStatus, type GatewayStatus, type RoomSummary } from "../protocol/messages";
import { defaultCacheDir, defaultSocketPath } from "./paths";
import { connectToDaemon } from "./connect";
import type { DaemonConnection } from "./daemon-connection";
import { openUnixConnection } from "./unix-socket";

/** How to reach a daemon for administration. */
export interface DaemonClientOptions {
  socketPath?: string;
  cacheDir?: string;
  /** Start a daemon when none answers (default false: asking about a daemon should not start one). */
  autoStart?: boolean;
}

/** A daemon's room, in TypeScript's casing. */
export interface RoomListing {
  notebookId: string;
  clients: number;
  kernelStatus: RoomSummary["kernel_status"];
  envSource: string | null;
}

/** What a daemon says about itself. */
export interface DaemonStatusReport {
  version: string;
  protocol: number;
  pid: number;
  uptimeSecs: number;
  socketPath: string;
  cacheDir: string;
  rooms: RoomListing[];
  pool: DaemonStatus["pool"];
  /** The address the daemon's network face listens on. */
  host: string;
  /** The network face's base URL, e.g. `http://127.0.0.1:8765/`; `pageUrl(url, token)` is the page to open. */
  url: string;
  /** The token every HTTP request and WebSocket to `url` must present. */
  token: string;
  /** The Jupyter gateway kernels start on, and whether it answered just now; null without one. */
  gateway: GatewayReport | null;
}

/** A daemon's gateway as `status()` reports it (the URL, never the token). */
export interface GatewayReport {
  url: string;
  reachable: boolean;
  defaultKernelspec: string | null;
  kernelspecs: string[];
  error: string | null;
}

function toGatewayReport(gateway: GatewayStatus | null | undefined): GatewayReport | null {
  if (!gateway) return null;
  return { url: gateway.url, reachable: gateway.reachable, defaultKernelspec: gateway.default_kernelspec, kernelspecs: gateway.kernelspecs, error: gateway.error };
}

/** What a blob collection did (see `DaemonClient.collectGarbage`). */
export interface GarbageReport {
  /** Blobs removed. */
  removed: number;
  /** Bytes freed: those blobs, their meta files and leftover temp files. */
  freedBytes: number;
  /** Blobs kept: referenced by a notebook, or younger than the grace period. */
  kept: number;
  /** Why nothing was removed (a saved notebook that cannot be read), or null. */
  skipped: string | null;
}

function toListing(room: RoomSummary): RoomListing {
  return { notebookId: room.notebook_id, clients: room.clients, kernelStatus: room.kernel_status, envSource: room.env_source };
}

/** Administers a daemon over its pool channel: health, rooms, pool, shutdown. */
export class DaemonClient {
  readonly socketPath: string;

  constructor(private readonly options: DaemonClientOptions = {}) {
    this.socketPath = options.socketPath ?? defaultSocketPath();
  }

  /** True when a daemon answers at the socket. */
  async isRunning(): Promise<boolean> {
    try {
      await this.ping();
      return true;
    } catch (error) {
      if (error instanceof RuntimedError && error.code === "DAEMON_UNAVAILABLE") return false;
      throw error;
    }
  }

  /** Round-trips a ping; rejects with DAEMON_UNAVAILABLE when no daemon answers. */
  async ping(): Promise<void> {
    await this.withConnection((connection) => connection.request({ action: "ping" }));
  }

  async status(): Promise<DaemonStatusReport> {
    const status = await this.withConnection((connection) => connection.request({ action: "status" }));
    return {
      version: status.version,
      protocol: status.protocol,
      pid: status.pid,
      uptimeSecs: status.uptime_secs,
      socketPath: status.socket_path,
      cacheDir: status.cache_dir,
      rooms: status.rooms.map(toListing),
      pool: status.pool,
      host: status.host,
      url: status.url,
      token: status.token,
      gateway: toGatewayReport(status.gateway),
    };
  }

  async listRooms(): Promise<RoomListing[]> {
    const reply = await this.withConnection((connection) => connection.request({ action: "list_rooms" }));
    return reply.rooms.map(toListing);
  }

  /** Discards the prewarmed environments and kernels; the pool refills in the background. */
  async flushPool(): Promise<void> {
    await this.withConnection((connection) => connection.request({ action: "flush_pool" }));
  }

  /**
   * Removes the blobs (large output payloads) that no notebook refers to any more, keeping
   * those younger than the daemon's grace period (10 minutes unless configured), or than
   * `graceSecs` when given. The daemon also does this hourly on its own.
   */
  async collectGarbage(options: { graceSecs?: number } = {}): Promise<GarbageReport> {
    const reply = await this.withConnection((connection) => connection.request({ action: "collect_garbage", grace_secs: options.graceSecs ?? null }));
    return { removed: reply.removed, freedBytes: reply.freed_bytes, kept: reply.kept, skipped: reply.skipped };
  }

  /** Asks the daemon to stop (kernels shut down, rooms saved). */
  async shutdown(): Promise<void> {
    await this.withConnection((connection) => connection.request({ action: "shutdown" }));
  }

  private async withConnection<T>(use: (connection: DaemonConnection) => Promise<T>): Promise<T> {
    const handshake = { channel: "pool", protocol: PROTOCOL_VERSION } as const;
    const connection = this.options.autoStart
      ? await connectToDaemon({ socketPath: this.socketPath, cacheDir: this.options.cacheDir ?? defaultCacheDir(), autoStart: true }, handshake)
      : await openUnixConnection({ socketPath: this.socketPath, handshake });
    try {
      return await use(connection);
    } finally {
      connection.close();
    }
  }
}
